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
              userEngEmbedding: batch.userEngEmbedding, authorEmbedding: batch.authorEmbedding,
              idFeatures: try RecapTrainingTask.idFeatures(batch, tables: model.spec.largeEmbeddings.map(\.name)))
  }

  /// The id bags of the `large_embeddings` features: a `meta__*` input (one id per
  /// example) or an int64 schema feature listed in `features:` (its values split evenly
  /// over the examples).
  public static func idFeatures(_ batch: RecapBatch, tables: [String]) throws -> [String: IdBags] {
    var out: [String: IdBags] = [:]
    for name in tables {
      if let ids = batch.meta[name] {
        out[name] = IdBags(ids: ids.map { Int($0) }, offsets: Array(0..<batch.size))
      } else if let ids = batch.extraInt64[name] {
        let per = batch.size > 0 ? ids.count / batch.size : 0
        out[name] = IdBags(ids: ids.map { Int($0) }, offsets: (0..<batch.size).map { $0 * per })
      }
    }
    return out
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
