import Foundation
import TMLData

/// Where a model comes from: its YAML config and its checkpoint (a save dir — newest
/// step — or a `step_<N>` directory).
public struct ModelSource: Sendable, Equatable {
  public var config: String
  public var checkpoint: String
  public init(config: String, checkpoint: String) {
    self.config = config
    self.checkpoint = checkpoint
  }
}

/// The server's models and their state. Each model slot is `loading`, `ready` or
/// `failed`; requests read the current model under a lock and keep their reference, so a
/// reload swaps the reference atomically while passes already running finish on the old
/// model (nothing in flight is dropped). Loading runs off the request path: the server
/// answers 503 for a model that is still loading.
///
///     let store = ModelStore(ranker: ModelSource(config: "configs/recap/small.yaml", checkpoint: "runs/recap_small"), twhin: nil)
///     store.startLoading()                                    // then store.ranker, store.reload(...)
public final class ModelStore: @unchecked Sendable {
  public enum State: Equatable, Sendable {
    case absent, loading, ready, failed(String)
  }

  public typealias RankerLoader = @Sendable (ModelSource, Int) throws -> LoadedRanker
  public typealias TwHINLoader = @Sendable (ModelSource, Int) throws -> LoadedTwHIN

  private let lock = NSLock()
  private let reloadLock = NSLock()
  private var _ranker: LoadedRanker?
  private var _twhin: LoadedTwHIN?
  private var _rankerState: State
  private var _twhinState: State
  private var rankerSource: ModelSource?
  private var twhinSource: ModelSource?
  private var loads = 0
  private let loadRanker: RankerLoader
  private let loadTwHIN: TwHINLoader
  /// Called after every successful (re)load with the model kind and version (metrics).
  public var onLoaded: @Sendable (_ model: String, _ version: String, _ previous: String?) -> Void = { _, _, _ in }

  public init(ranker: ModelSource?, twhin: ModelSource?,
              loadRanker: @escaping RankerLoader = { try LoadedRanker.load(configPath: $0.config, checkpoint: $0.checkpoint, loadNumber: $1) },
              loadTwHIN: @escaping TwHINLoader = { try LoadedTwHIN.load(configPath: $0.config, checkpoint: $0.checkpoint, loadNumber: $1) }) {
    rankerSource = ranker
    twhinSource = twhin
    _rankerState = ranker == nil ? .absent : .loading
    _twhinState = twhin == nil ? .absent : .loading
    self.loadRanker = loadRanker
    self.loadTwHIN = loadTwHIN
  }

  /// A store around models already in memory (benchmarks, tests).
  public init(ranker: LoadedRanker?, twhin: LoadedTwHIN?) {
    _ranker = ranker
    _twhin = twhin
    _rankerState = ranker == nil ? .absent : .ready
    _twhinState = twhin == nil ? .absent : .ready
    loadRanker = { _, _ in throw ServeError(409, "this server's ranker was given in memory; it has no checkpoint to reload") }
    loadTwHIN = { _, _ in throw ServeError(409, "this server's TwHIN model was given in memory; it has no checkpoint to reload") }
  }

  /// Where each model is (re)loaded from (nil for a model given in memory or absent).
  public var sources: (ranker: ModelSource?, twhin: ModelSource?) { lock.withLock { (rankerSource, twhinSource) } }

  public var ranker: LoadedRanker? { lock.withLock { _ranker } }
  public var twhin: LoadedTwHIN? { lock.withLock { _twhin } }
  public var rankerState: State { lock.withLock { _rankerState } }
  public var twhinState: State { lock.withLock { _twhinState } }

  /// True when every configured model is loaded.
  public var isReady: Bool {
    lock.withLock { [_rankerState, _twhinState].allSatisfy { $0 == .ready || $0 == .absent } }
  }

  /// Loads the configured models on a background thread; `done` runs when both are settled.
  public func startLoading(done: @escaping @Sendable () -> Void = {}) {
    let thread = Thread {
      self.reloadLock.withLock {
        if let s = self.lock.withLock({ self.rankerSource }) { _ = try? self.load(ranker: s) }
        if let s = self.lock.withLock({ self.twhinSource }) { _ = try? self.load(twhin: s) }
      }
      done()
    }
    thread.name = "tml-serve-loader"
    thread.start()
  }

  private func nextLoadNumber() -> Int { lock.withLock { loads += 1; return loads } }

  @discardableResult
  private func load(ranker source: ModelSource) throws -> LoadedRanker {
    do {
      let r = try loadRanker(source, nextLoadNumber())
      try RankWarmup.run(r)
      let previous = lock.withLock { () -> String? in
        let p = _ranker?.version
        _ranker = r
        _rankerState = .ready
        rankerSource = source
        return p
      }
      onLoaded("ranker", r.version, previous)
      return r
    } catch {
      lock.withLock { if _ranker == nil { _rankerState = .failed("\(error)") } }
      throw error
    }
  }

  @discardableResult
  private func load(twhin source: ModelSource) throws -> LoadedTwHIN {
    do {
      let t = try loadTwHIN(source, nextLoadNumber())
      let previous = lock.withLock { () -> String? in
        let p = _twhin?.version
        _twhin = t
        _twhinState = .ready
        twhinSource = source
        return p
      }
      onLoaded("twhin", t.version, previous)
      return t
    } catch {
      lock.withLock { if _twhin == nil { _twhinState = .failed("\(error)") } }
      throw error
    }
  }

  /// Loads new checkpoints (nil: the current source again, e.g. a save dir whose newest
  /// step moved) and swaps them in; one reload at a time. A model that fails to load
  /// leaves the old one serving and the error is thrown (the reply names it).
  public func reload(rankerCheckpoint: String?, twhinCheckpoint: String?, reloadRanker: Bool, reloadTwHIN: Bool) throws -> [String: String] {
    try reloadLock.withLock {
      var versions: [String: String] = [:]
      let (rs, ts) = lock.withLock { (rankerSource, twhinSource) }
      if reloadRanker {
        guard var s = rs else { throw ServeError(409, "the server has no ranker (start it with --ranker and --ranker-config)") }
        if let c = rankerCheckpoint { s.checkpoint = c }
        do { versions["ranker"] = try load(ranker: s).version } catch let e as ServeError { throw e } catch {
          throw ServeError(422, "ranker reload from \(s.checkpoint) failed, the old model keeps serving: \(error)")
        }
      }
      if reloadTwHIN {
        guard var s = ts else { throw ServeError(409, "the server has no TwHIN model (start it with --twhin and --twhin-config)") }
        if let c = twhinCheckpoint { s.checkpoint = c }
        do { versions["twhin"] = try load(twhin: s).version } catch let e as ServeError { throw e } catch {
          throw ServeError(422, "TwHIN reload from \(s.checkpoint) failed, the old model keeps serving: \(error)")
        }
      }
      return versions
    }
  }
}

/// The first forward pass of a freshly loaded ranker (one all-default record), run before
/// it is swapped in, so that the layers' packed weights are built off the request path.
enum RankWarmup {
  static func run(_ ranker: LoadedRanker) throws {
    _ = try ranker.score([RawRecord(bytes: [], file: "warm-up", index: 0)])
  }
}
