import TMLTensor

/// A module that draws random numbers while training (dropout masks, position drops).
/// Its generator is part of the run's state: checkpoints save it (`randomStreams()`) and
/// a resume restores it (`loadRandomStreams`), so a resumed run draws exactly the masks
/// an uninterrupted one would.
public protocol StochasticModule: Module {
  var randomStream: RandomGenerator { get set }
  /// Set in data-parallel training: this process is one of the replicas that share one
  /// global batch (`DataParallel.shareRandomStreams`).
  var replica: ReplicaSlice? { get set }
}

/// Rank `rank` of `worldSize` data-parallel replicas, each holding an equal, consecutive
/// slice of the global batch (rank r: rows [r·b, (r + 1)·b)). A stochastic module draws
/// the numbers of the whole global batch from its stream and uses its slice's:
///
///     skip r·k draws;  draw k (this rank's rows);  skip (N − 1 − r)·k draws
///
/// so every replica's masks are the single-process run's for those rows, the replicas'
/// masks are independent (not copies of each other), and every replica's stream stays
/// in the same state as one process's — a checkpoint of N ranks resumes on M exactly.
public struct ReplicaSlice: Equatable, Sendable {
  public let rank: Int
  public let worldSize: Int
  public init(rank: Int, worldSize: Int) {
    self.rank = rank
    self.worldSize = worldSize
  }

  /// Runs `body`, which makes `draws` draws for this rank's rows, between the skips of the
  /// other ranks' draws. Without a replica: `body` alone.
  public static func draw<T>(_ replica: ReplicaSlice?, draws: Int, from rng: inout RandomGenerator,
                             _ body: (inout RandomGenerator) throws -> T) rethrows -> T {
    guard let replica, replica.worldSize > 1 else { return try body(&rng) }
    rng.skip(replica.rank * draws)
    let out = try body(&rng)
    rng.skip((replica.worldSize - 1 - replica.rank) * draws)
    return out
  }
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
