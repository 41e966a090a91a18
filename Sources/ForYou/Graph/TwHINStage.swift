import Foundation
import TMLNN
import TMLTensor
import TMLTrain
import TwHIN

/// How the demo trains TwHIN (DESIGN §8, with the original's defects fixed: negatives
/// labelled 0, translations trained and applied to negatives):
///
///     s(u, r, v) = ⟨e_u, e_v + t_r⟩,   BCE-with-logits over positives and in-batch + global negatives
///     tables: row-wise Adagrad (lr `tableLearningRate`), translations: Adagrad (lr `translationLearningRate`)
public struct TwHINOptions: Equatable, Sendable {
  public var dim = 16
  public var epochs = 8
  public var batchSize = 512
  public var inBatchNegatives = 10
  public var globalNegatives = 5
  public var tableLearningRate: Float = 0.1
  public var translationLearningRate: Float = 0.05
  public init() {}
}

/// A trained TwHIN model with its per-epoch training losses and held-out link-prediction
/// metrics (sampled AUC; filtered MRR / Hits@K against every rhs row).
public struct TrainedTwHIN {
  public let model: TwHINModel
  public let epochLosses: [Float]
  public let evaluation: TwHINEvaluation
}

/// Trains TwHIN on an `EngagementGraph` and writes, under `directory`: `metrics.jsonl`
/// (`twhin/train` per epoch, `twhin/eval`), `tensorboard/`, `checkpoints/step_<N>/`
/// (model and optimizer state) and `embeddings/<table>.{safetensors,tsv}`.
enum TwHINStage {
  static func train(_ graph: EngagementGraph, options o: TwHINOptions, seed: UInt64, directory: URL,
                    onEpoch: (Int, Float) -> Void) throws -> TrainedTwHIN {
    let model = try TwHINModel(schema: graph.schema, dim: o.dim, embeddingInit: .normal(std: 0.1), seed: seed)
    let loss = try TwHINLoss(inBatchNegatives: o.inBatchNegatives, globalNegatives: o.globalNegatives)
    let trainer = try TwHINTrainer(
      model: model, loss: loss,
      tableOptimizers: Array(repeating: .rowWiseAdagrad(.constant(o.tableLearningRate)), count: graph.schema.tables.count),
      translationOptimizer: .adagrad(.constant(o.translationLearningRate)), seed: seed)
    let log = try MetricsLog(url: directory.appendingPathComponent("metrics.jsonl"))
    let board = try TensorBoardWriter(directory: directory.appendingPathComponent("tensorboard/train"))
    defer { try? board.close() }
    var shuffle = RandomGenerator(seed: seed, stream: 0x5348)  // "SH"
    var losses: [Float] = []
    for epoch in 1...max(o.epochs, 1) {
      let l = try trainer.trainEpoch(graph.train, batchSize: o.batchSize, shuffleWith: &shuffle)
      losses.append(l)
      try log.append(kind: "twhin/train", step: epoch, ["loss": Double(l), "steps": Double(trainer.stepCount)])
      try board.add(["loss": Double(l)], step: epoch)
      onEpoch(epoch, l)
    }
    let evaluator = try TwHINEvaluator(loss: loss, batchSize: o.batchSize, hitsAt: [1, 10, 50], seed: seed)
    let evaluation = try evaluator.evaluate(model, edges: graph.heldOut, known: KnownEdges([graph.train, graph.heldOut]))
    try log.append(kind: "twhin/eval", step: losses.count, evaluation.dictionary)
    try CheckpointManager(saveDir: directory, maxToKeep: 1).save(
      step: trainer.stepCount, model: model.stateDict(), optimizer: trainer.optimizerStateDict(),
      state: CheckpointState(step: trainer.stepCount))
    let embeddings = directory.appendingPathComponent("embeddings")
    try EmbeddingExport.writeSafetensors(model, to: embeddings)
    try EmbeddingExport.writeTSV(model, to: embeddings)
    model.eval()
    return TrainedTwHIN(model: model, epochLosses: losses, evaluation: evaluation)
  }
}
