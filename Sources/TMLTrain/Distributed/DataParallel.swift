import Foundation
import TMLDistributed
import TMLNN
import TMLTensor

/// Data-parallel training of a replicated model (the original's DistributedModelParallel
/// for dense layers): every rank holds the whole model, trains on its own B/N rows of each
/// global batch of B with its loss scaled by 1/N (`lossScale`), and before each optimizer
/// step the gradients are summed,
///
///     g ← Σ_ranks g_rank = (1/N) · Σ_ranks ∇ loss_rank     (all-reduce, `sumGradients`)
///
/// which — with equal local batches, a mean loss and `synchroniseBatchNorm` — is the
/// gradient of the global batch's mean loss, so N ranks take the step one process would.
/// Buckets run in reverse parameter order (the order backward finishes them). Row-sharded
/// parameters are left to their own exchanges (`RowShardedEmbeddingBag`).
///
///     let dp = DataParallel(communicator: comm, module: model)
///     try dp.broadcastState()          // rank 0's weights everywhere
///     dp.synchroniseBatchNorm()
///     try (loss * dp.lossScale).backward(); try dp.sumGradients(); try optimizer.step()
public final class DataParallel {
  public let communicator: any Communicator
  public let module: any Module
  /// Floats per all-reduce call (default 1 Mi = 4 MiB).
  public var bucketElements: Int
  /// The bucket being reduced, kept between steps.
  private var scratch: [Float] = []

  public init(communicator: any Communicator, module: any Module, bucketElements: Int = 1 << 20) {
    self.communicator = communicator
    self.module = module
    self.bucketElements = max(bucketElements, 1)
  }

  /// Copies rank 0's parameters and buffers to every rank (after initialisation or a resume),
  /// and rank 0's `overlapsBackward` (ranks on other machines may not see its environment;
  /// ranks that disagreed would mix blocking and non-blocking all-reduces and hang).
  public func broadcastState() throws {
    guard communicator.isDistributed else { return }
    var overlap: [Int64] = [overlapsBackward ? 1 : 0]
    try communicator.broadcast(&overlap, root: 0)
    overlapsBackward = overlap[0] == 1
    var flat: [Float] = []
    let params = replicatedParameters, buffers = module.namedBuffers()
    for (_, p) in params { flat += p.value.scalars }
    for (_, b) in buffers { flat += b.value.scalars }
    try communicator.broadcast(&flat, root: 0)
    var at = 0
    for (_, p) in params {
      let n = p.value.count
      try p.assign(try Tensor(shape: p.shape, scalars: Array(flat[at..<at + n])))
      at += n
    }
    for (_, b) in buffers {
      let n = b.value.count
      b.value = try Tensor(shape: b.value.shape, scalars: Array(flat[at..<at + n]))
      at += n
    }
  }

  /// Makes every stochastic module (dropout, position drops) draw the numbers of the whole
  /// global batch and use this rank's rows (`ReplicaSlice`): the masks are one process's,
  /// and all ranks' streams stay equal to one process's stream.
  public func shareRandomStreams() {
    guard communicator.isDistributed else { return }
    let slice = ReplicaSlice(rank: communicator.rank, worldSize: communicator.worldSize)
    for (_, m) in module.namedModules() {
      guard var s = m as? any StochasticModule else { continue }
      s.replica = slice
    }
  }

  /// The parameters every rank holds whole; a row-sharded one (`Parameter.rowShard`, e.g.
  /// `RowShardedEmbeddingBag`'s table) is neither broadcast nor all-reduced.
  var replicatedParameters: [(String, Parameter)] { module.namedParameters().filter { $0.1.rowShard == nil } }

  /// Makes every BatchNorm1d of the module a SyncBatchNorm over the ranks.
  public func synchroniseBatchNorm() {
    guard communicator.isDistributed else { return }
    let comm = communicator
    for (_, m) in module.namedModules() {
      guard let bn = m as? BatchNorm1d else { continue }
      bn.crossReplicaSum = { values in try comm.allReduce(&values, .sum) }
    }
  }

  /// The factor each rank's loss is multiplied by before backward (1/N): the gradient sum
  /// over the ranks is then their average, without another pass over the gradients.
  public var lossScale: Float { 1 / Float(communicator.worldSize) }

  /// Whether training starts the gradient all-reduce during backward
  /// (`startOverlappedReduction`) rather than after it (`sumGradients`).
  public var overlapsBackward = DataParallel.overlapByDefault()

  /// `SWIFTTML_OVERLAP_ALLREDUCE=1` or `0` when set; otherwise on when the job spans
  /// machines (a network moves the bytes while the cores compute) and off when every rank
  /// is on this machine, where the reduction runs on the cores backward needs (measured on 2
  /// cores: 1.73–1.76× with it, 1.77–1.78× without; docs/distributed.md).
  public static func overlapByDefault(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
    switch environment["SWIFTTML_OVERLAP_ALLREDUCE"] {
    case "1": return true
    case "0": return false
    default: return Distributed.launchedWorldSize(environment) > Distributed.ranksOnThisMachine(environment)
    }
  }

  /// The reduction of one step's gradients, to be fed by backward's `onLeafReady` and
  /// completed with `finish()` before the optimizer step (`OverlappedGradientReduction`).
  public func startOverlappedReduction() -> OverlappedGradientReduction {
    OverlappedGradientReduction(communicator: communicator, parameters: replicatedParameters.map(\.1), bucketElements: bucketElements)
  }

  /// Backward from `scaled` (a loss already multiplied by `lossScale`) and the sum of the
  /// gradients over the ranks: started during backward when `overlapsBackward` and there
  /// are several ranks, after it otherwise.
  public func backwardSummingGradients(of scaled: Tensor) throws {
    guard communicator.isDistributed, overlapsBackward else {
      try scaled.backward()
      try sumGradients()
      return
    }
    let reduction = startOverlappedReduction()
    try scaled.backward(onLeafReady: reduction.leafReady)
    try reduction.finish()
  }

  /// Sums every parameter's gradient over the ranks — the average, when each rank's loss
  /// was scaled by `lossScale`. Parameters of at least `bucketElements` floats are reduced
  /// in place in their gradient; smaller ones are packed into buckets of about that size.
  /// A parameter without a gradient takes part with zeros (so all ranks exchange the same
  /// buckets) and keeps none, as in one process, where the optimizer skips it.
  public func sumGradients() throws {
    guard communicator.isDistributed else { return }
    for bucket in GradientBucket.plan(replicatedParameters.map(\.1), bucketElements: bucketElements) {
      if bucket.alone, let p = bucket.parameters.first, var g = p.grad {
        p.zeroGrad()  // the leaf lets go, so the gradient's storage is reduced in place
        try g.withUnsafeMutableBufferPointer { try communicator.allReduce($0, .sum) }
        p.value.setGrad(g)
        continue
      }
      if scratch.count < bucket.size { scratch = [Float](repeating: 0, count: bucket.size) }
      try scratch.withUnsafeMutableBufferPointer { buffer in
        let flat = UnsafeMutableBufferPointer(rebasing: buffer[0..<bucket.size])
        bucket.gather(into: flat)
        try communicator.allReduce(flat, .sum)
        bucket.scatter(from: flat)
      }
    }
  }
}
