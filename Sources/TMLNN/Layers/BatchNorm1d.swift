import TMLTensor

/// Batch normalisation over the feature columns of [B, C] (PyTorch `nn.BatchNorm1d`).
///
/// Training normalises with the batch mean and biased variance and updates
/// `running = (1 − m)·running + m·batch` using the **unbiased** variance, and
/// `num_batches_tracked += 1`. Evaluation uses the running statistics.
/// State: `weight`, `bias` (when affine), `running_mean`, `running_var`,
/// `num_batches_tracked` (saved as int64).
///
/// With `crossReplicaSum` set (data-parallel training, `DataParallel.synchroniseBatchNorm`)
/// it is PyTorch's `SyncBatchNorm`: batch statistics and their gradients cover the rows of
/// every replica, so the result does not depend on how the batch is split.
public final class BatchNorm1d: UnaryLayer {
  public let weight: Parameter?
  public let bias: Parameter?
  public let runningMean: Buffer
  public let runningVar: Buffer
  public let numBatchesTracked: Buffer
  public let momentum: Float
  public let eps: Float
  public var isTraining = true
  /// Sums the batch statistics over the replicas of a data-parallel job (nil: this batch only).
  public var crossReplicaSum: Tensor.CrossReplicaSum?

  public init(_ features: Int, affine: Bool = true, momentum: Float = 0.1, eps: Float = 1e-5) {
    weight = affine ? Parameter(Tensor.ones([features])) : nil
    bias = affine ? Parameter(Tensor.zeros([features])) : nil
    runningMean = Buffer(Tensor.zeros([features]))
    runningVar = Buffer(Tensor.ones([features]))
    numBatchesTracked = Buffer(Tensor(scalar: 0), dtype: .i64)
    self.momentum = momentum
    self.eps = eps
  }

  public var parameters: [(String, Parameter)] {
    guard let weight, let bias else { return [] }
    return [("weight", weight), ("bias", bias)]
  }

  public var buffers: [(String, Buffer)] {
    [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", numBatchesTracked)]
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let (y, stats) = try Tensor.batchNorm(
      x, weight: weight?.value, bias: bias?.value, eps: eps, training: isTraining,
      runningMean: runningMean.value, runningVar: runningVar.value, crossReplicaSum: crossReplicaSum)
    if let stats {
      let n = Float(stats.count)
      let m = momentum
      let mean = runningMean.value.scalars, variance = runningVar.value.scalars
      runningMean.value = Tensor(zip(mean, stats.mean).map { (1 - m) * $0 + m * $1 })
      runningVar.value = Tensor(zip(variance, stats.variance).map { (1 - m) * $0 + m * $1 * n / (n - 1) })
      numBatchesTracked.value = Tensor(scalar: (numBatchesTracked.value.item ?? 0) + 1)
    }
    return y
  }
}
