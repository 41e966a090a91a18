import TMLData
import TMLTensor

/// The ranker's multi-task loss (the original's `build_multi_task_loss` with
/// BCE-with-logits, mean reductions):
///
///     L_t = mean_b  w_bt · BCE(z_bt, y_bt; pos_weight_t),     L = mean_t L_t
///
/// Labels and weights are taken from the batch **by task name** (the original stacks
/// them by position, which misaligns them when the data has more tasks than the model).
public struct MultiTaskLoss {
  public let taskNames: [String]
  public let posWeights: Tensor

  public init(taskNames: [String], posWeights: [Float]) {
    self.taskNames = taskNames
    self.posWeights = Tensor(posWeights)
  }

  public struct Value {
    /// The total loss (differentiable).
    public var total: Tensor
    /// Each task's loss, in `taskNames` order.
    public var perTask: [Float]
    /// The labels and weights of the model's tasks, [B, T] each.
    public var labels: Tensor
    public var weights: Tensor
  }

  /// The labels and weights of the model's tasks from a batch, [B, T] in model order.
  public func targets(_ batch: RecapBatch) throws -> (labels: Tensor, weights: Tensor) {
    let columns = IndexTensor(try taskNames.map { try batch.labelColumn($0) })
    return (try batch.labels.indexSelect(axis: -1, columns), try batch.weights.indexSelect(axis: -1, columns))
  }

  public func callAsFunction(_ logits: Tensor, labels: Tensor, weights: Tensor) throws -> Value {
    guard logits.rank == 2, logits.shape[1] == taskNames.count else {
      throw TensorError("multi-task loss: logits \(describe(shape: logits.shape)) do not have one column per task (\(taskNames.count))")
    }
    let total = try Tensor.bceWithLogits(logits, labels: labels, weight: weights, posWeight: posWeights, reduction: .mean)
    let elementwise = try noGrad {
      try Tensor.bceWithLogits(logits.detached(), labels: labels, weight: weights, posWeight: posWeights, reduction: .none)
    }
    let perTask = try elementwise.mean(axis: 0).scalars
    return Value(total: total, perTask: perTask, labels: labels, weights: weights)
  }

  public func callAsFunction(_ logits: Tensor, batch: RecapBatch) throws -> Value {
    let (labels, weights) = try targets(batch)
    return try self(logits, labels: labels, weights: weights)
  }
}
