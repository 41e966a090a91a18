import TMLData
import TMLNN
import TMLTensor
import TMLTrain

/// The Heavy Ranker as a `TrainingTask`: forward pass on a `RecapBatch`, multi-task loss
/// with labels matched by name, per-task losses logged as `loss/<task>`.
public final class RecapTrainingTask: TrainingTask {
  public let model: MultiTaskRankingModel
  public let loss: MultiTaskLoss
  public var module: any Module { model }

  public init(model: MultiTaskRankingModel) {
    self.model = model
    loss = MultiTaskLoss(taskNames: model.taskNames, posWeights: model.spec.tasks.map(\.posWeight))
  }

  public func forward(_ batch: RecapBatch) throws -> MultiTaskRankingModel.Output {
    try model(continuous: batch.continuous, binary: batch.binary, discrete: batch.discrete, userEmbedding: batch.userEmbedding,
              userEngEmbedding: batch.userEngEmbedding, authorEmbedding: batch.authorEmbedding)
  }

  public func loss(_ batch: RecapBatch) throws -> (total: Tensor, logs: [String: Double], examples: Int) {
    let value = try loss(try forward(batch).logits, batch: batch)
    var logs: [String: Double] = [:]
    for (name, l) in zip(model.taskNames, value.perTask) { logs["loss/\(name)"] = Double(l) }
    return (value.total, logs, batch.size)
  }
}

/// Training batches from a `BatchPipeline` of `RecapBatch`es.
public struct PipelineBatchSource<Batch>: BatchSource {
  public let pipeline: BatchPipeline<Batch>
  public init(_ pipeline: BatchPipeline<Batch>) { self.pipeline = pipeline }
  public mutating func next() throws -> Batch? { try pipeline.next() }
  public mutating func skip(_ batches: Int) throws {
    for _ in 0..<batches { guard try pipeline.next() != nil else { return } }
  }
  public var waitSeconds: Double { pipeline.waitSeconds }
  public var skippedRecords: SkippedRecords? { pipeline.options.ignoreDataErrors ? pipeline.skipped : nil }
}
