import TMLTensor

/// A module whose table is updated in backward by a fused sparse optimizer
/// (`EmbeddingBag.fuse`, `RowShardedEmbeddingBag.fuse`). The optimizer's step count picks
/// its learning rate from the schedule, so it is part of the run's state: checkpoints
/// save it (`fusedOptimizerSteps()`) and a resume restores it, so a resumed run's
/// tables continue the schedule where the uninterrupted run would be.
public protocol FusedSparseModule: Module {
  var fusedOptimizer: (any SparseRowOptimizer)? { get }
}

extension Module {
  /// The step count of every fused optimizer in the tree, keyed `fused/<path>` (saved in
  /// state.json beside the random streams, as one word).
  public func fusedOptimizerSteps() -> [String: [UInt64]] {
    var out: [String: [UInt64]] = [:]
    for (path, m) in namedModules() {
      if let f = m as? any FusedSparseModule, let opt = f.fusedOptimizer { out["fused/" + path] = [UInt64(opt.iteration)] }
    }
    return out
  }

  /// Restores step counts saved by `fusedOptimizerSteps()`; a fused optimizer without a
  /// saved count (a checkpoint written before they were saved) keeps its own.
  public func loadFusedOptimizerSteps(_ saved: [String: [UInt64]], origin: String = "checkpoint") throws {
    for (path, m) in namedModules() {
      guard let f = m as? any FusedSparseModule, let opt = f.fusedOptimizer, let words = saved["fused/" + path] else { continue }
      guard words.count == 1, words[0] <= UInt64(Int.max) else {
        throw TensorError("\(origin): the fused optimizer step count of module \(path) is invalid: \(words)")
      }
      opt.iteration = Int(words[0])
    }
  }
}
