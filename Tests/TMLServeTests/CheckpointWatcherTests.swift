import Foundation
import Recap
import TMLNN
import XCTest
@testable import TMLServe

/// `--watch-seconds`: a new newest step in the save dir is swapped in; nothing else is.
final class CheckpointWatcherTests: XCTestCase {
  func testANewStepInTheSaveDirIsReloadedAndAStepDirectoryIsLeftAlone() async throws {
    let fixtures = try ServeFixtures.get()
    let saveDir = fixtures.dir.appendingPathComponent("watched-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: fixtures.rankerSaveDir, to: saveDir)
    let store = ModelStore(ranker: ModelSource(config: fixtures.rankerConfig, checkpoint: saveDir.path), twhin: nil)
    let loaded = DispatchSemaphore(value: 0)
    store.startLoading { loaded.signal() }
    await withCheckedContinuation { c in DispatchQueue.global().async { loaded.wait(); c.resume() } }
    XCTAssertEqual(store.ranker?.step, 10)
    let watcher = CheckpointWatcher(store: store, intervalSeconds: 3600)
    XCTAssertEqual(watcher.check(), [], "nothing new")
    let steps = saveDir.appendingPathComponent("checkpoints")
    // A new checkpoint appears (step_5's weights saved as step 20, as a training run would).
    let (model, _) = try RecapRun(configPath: fixtures.rankerConfig).loadModel(checkpoint: steps.appendingPathComponent("step_5"))
    try CheckpointManager(saveDir: saveDir).save(step: 20, model: model.stateDict(), optimizer: StateDict(), state: CheckpointState(step: 20))
    let events = watcher.check()
    XCTAssertEqual(events.count, 1)
    XCTAssertTrue(events[0].hasPrefix("watcher: reloaded ranker → step_20@step_20#"), "\(events)")
    XCTAssertEqual(store.ranker?.checkpoint, steps.appendingPathComponent("step_20").path)
    XCTAssertEqual(watcher.check(), [], "reloaded once")
    // A broken newest step keeps the old model serving and is reported.
    try FileManager.default.createDirectory(at: steps.appendingPathComponent("step_30"), withIntermediateDirectories: true)
    try "{not json".write(to: steps.appendingPathComponent("step_30/state.json"), atomically: true, encoding: .utf8)
    let failed = watcher.check()
    XCTAssertTrue(failed.first?.hasPrefix("watcher: reload failed, the old model keeps serving") ?? false, "\(failed)")
    XCTAssertEqual(store.ranker?.checkpoint, steps.appendingPathComponent("step_20").path)
    // Pinned to a step directory: later steps are not picked up.
    let pinned = ModelStore(ranker: ModelSource(config: fixtures.rankerConfig, checkpoint: steps.appendingPathComponent("step_5").path), twhin: nil)
    let pinnedLoaded = DispatchSemaphore(value: 0)
    pinned.startLoading { pinnedLoaded.signal() }
    await withCheckedContinuation { c in DispatchQueue.global().async { pinnedLoaded.wait(); c.resume() } }
    XCTAssertEqual(CheckpointWatcher(store: pinned, intervalSeconds: 3600).check(), [])
    XCTAssertEqual(pinned.ranker?.step, 5)
  }
}
