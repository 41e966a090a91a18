import Foundation
import TMLNN

/// `tml serve --watch-seconds S`: every S seconds, looks at each model's save dir and,
/// when its newest `checkpoints/step_<N>` is not the one serving, reloads it through
/// `ModelStore.reload` (atomic swap, in-flight requests finish on the old model). A model
/// given as a `step_<N>` directory is never changed by the watcher. A failed load (for
/// instance a checkpoint still being copied in by hand) leaves the old model serving and
/// is retried at the next look; `onEvent` hears about each reload and failure.
///
///     CheckpointWatcher(store: store, intervalSeconds: 30, onEvent: { print($0) }).start()
public final class CheckpointWatcher: @unchecked Sendable {
  private let store: ModelStore
  private let interval: Double
  private let onEvent: @Sendable (String) -> Void
  private let condition = NSCondition()
  private var stopped = false

  public init(store: ModelStore, intervalSeconds: Double, onEvent: @escaping @Sendable (String) -> Void = { _ in }) {
    self.store = store
    interval = max(0.01, intervalSeconds)
    self.onEvent = onEvent
  }

  /// The newest step directory of `checkpoint` when it is a save dir, else itself.
  static func newest(_ checkpoint: String) -> String {
    CheckpointManager(saveDir: URL(fileURLWithPath: checkpoint)).steps().last?.url.path ?? checkpoint
  }

  public func start() {
    let thread = Thread { self.loop() }
    thread.name = "tml-serve-watcher"
    thread.start()
  }

  public func stop() {
    condition.lock()
    stopped = true
    condition.signal()
    condition.unlock()
  }

  /// One look: reloads the models whose save dir has a newer step. Returns what it did.
  @discardableResult
  public func check() -> [String] {
    var events: [String] = []
    let sources = store.sources
    let due = (ranker: sources.ranker.map { CheckpointWatcher.newest($0.checkpoint) != store.ranker?.checkpoint } ?? false,
               twhin: sources.twhin.map { CheckpointWatcher.newest($0.checkpoint) != store.twhin?.checkpoint } ?? false)
    guard due.ranker || due.twhin else { return [] }
    do {
      let versions = try store.reload(rankerCheckpoint: nil, twhinCheckpoint: nil, reloadRanker: due.ranker, reloadTwHIN: due.twhin)
      for (model, version) in versions.sorted(by: { $0.key < $1.key }) { events.append("watcher: reloaded \(model) → \(version)") }
    } catch {
      events.append("watcher: reload failed, the old model keeps serving: \(error)")
    }
    for e in events { onEvent(e) }
    return events
  }

  private func loop() {
    while true {
      condition.lock()
      if !stopped { _ = condition.wait(until: Date(timeIntervalSinceNow: interval)) }
      let done = stopped
      condition.unlock()
      if done { return }
      check()
    }
  }
}
