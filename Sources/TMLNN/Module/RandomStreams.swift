import TMLTensor

/// A module that draws random numbers while training (dropout masks, position drops).
/// Its generator is part of the run's state: checkpoints save it (`randomStreams()`) and
/// a resume restores it (`loadRandomStreams`), so a resumed run draws exactly the masks
/// an uninterrupted one would.
public protocol StochasticModule: Module {
  var randomStream: RandomGenerator { get set }
}

extension Module {
  /// The generator of every `StochasticModule` in the tree, keyed `module/<path>`
  /// (`module/_towers.3.layers.5`), as xoshiro256** state words.
  public func randomStreams() -> [String: [UInt64]] {
    var out: [String: [UInt64]] = [:]
    for (path, m) in namedModules() {
      if let s = m as? any StochasticModule { out["module/" + path] = s.randomStream.state }
    }
    return out
  }

  /// Restores generators saved by `randomStreams()`. A module without a saved stream (a
  /// checkpoint written before streams were saved) keeps its own.
  public func loadRandomStreams(_ saved: [String: [UInt64]], origin: String = "checkpoint") throws {
    for (path, m) in namedModules() {
      guard let s = m as? any StochasticModule, let words = saved["module/" + path] else { continue }
      do { s.randomStream = try RandomGenerator(state: words) } catch {
        throw TensorError("\(origin): the random stream of module \(path.isEmpty ? "(root)" : path) is invalid: \(error)")
      }
    }
  }
}
