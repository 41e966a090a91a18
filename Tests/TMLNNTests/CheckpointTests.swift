import Foundation
import TMLNN
import TMLTensor
import XCTest

/// Linear → BatchNorm → ReLU → Linear, named like the original's `Mlp` (`layers.<i>.*`).
final class SmallModel: Module {
  var isTraining = true
  let layers: Sequential

  init(hidden: Int = 4, seed: UInt64 = 1) {
    var rng = RandomGenerator(seed: seed)
    layers = Sequential([Linear(3, hidden, rng: &rng), BatchNorm1d(hidden), ReLU(), Linear(hidden, 1, rng: &rng)])
  }

  var children: [(String, any Module)] { [("layers", layers)] }
}

final class CheckpointTests: XCTestCase {
  private var root: URL!

  override func setUpWithError() throws { root = try makeTemporaryDirectory("checkpoint") }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

  /// One training step, so the model's buffers and the optimizer's state are non-trivial.
  private func trainedModelAndOptimizer(seed: UInt64 = 1) throws -> (SmallModel, Adam) {
    let model = SmallModel(seed: seed)
    let opt = try Adam(groups: [ParameterGroup(name: "all", parameters: model.namedParameters(), schedule: .constant(0.01))])
    let y = try model.layers(seededTensor([8, 3], seed: 9))
    try y.sum().backward()
    try opt.step()
    model.zeroGrad()
    return (model, opt)
  }

  private func emptySave(_ manager: CheckpointManager, step: Int) throws {
    try manager.save(step: step, model: SmallModel().stateDict(), optimizer: StateDict(), state: CheckpointState(step: step))
  }

  func testSaveThenLoadLatestRoundTripsModelOptimizerAndState() throws {
    let (model, opt) = try trainedModelAndOptimizer()
    let manager = CheckpointManager(saveDir: root)
    let state = CheckpointState(step: 42, rngStates: ["dropout": [1, 2, 3, UInt64.max]],
                                dataPosition: ["train": 12_345], configHash: "abc123")
    let dir = try manager.save(step: 42, model: model.stateDict(), optimizer: opt.stateDict(), state: state)
    XCTAssertEqual(dir.lastPathComponent, "step_42")
    for file in ["model.safetensors", "optimizer.safetensors", "state.json"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), file)
    }

    let loaded = try XCTUnwrap(try manager.loadLatest())
    var withoutChecksums = loaded.state
    withoutChecksums.crc32c = nil
    XCTAssertEqual(withoutChecksums, state)
    XCTAssertEqual(loaded.directory.standardizedFileURL.path, dir.standardizedFileURL.path)
    XCTAssertEqual(loaded.model.names, model.stateDict().names)
    XCTAssertEqual(loaded.model["layers.1.num_batches_tracked"]?.dtype, .i64)
    XCTAssertEqual(loaded.model["layers.1.num_batches_tracked"]?.tensor.item, 1)
    XCTAssertEqual(Set(loaded.optimizer.names), Set(opt.stateDict().names))

    let restoredModel = SmallModel(seed: 2)
    try restoredModel.loadStateDict(loaded.model, origin: loaded.directory.path)
    for (name, e) in model.stateDict().entries {
      assertIdentical(try XCTUnwrap(restoredModel.stateDict()[name]).tensor, e.tensor, "model \(name)")
    }
    let restoredOpt = try Adam(groups: [ParameterGroup(name: "all", parameters: restoredModel.namedParameters(), schedule: .constant(0.01))])
    try restoredOpt.loadStateDict(loaded.optimizer)
    XCTAssertEqual(restoredOpt.iteration, opt.iteration)
    for (name, e) in opt.stateDict().entries {
      assertIdentical(try XCTUnwrap(restoredOpt.stateDict()[name]).tensor, e.tensor, "optimizer \(name)")
    }
  }

  func testLoadLatestReturnsNilWhenNothingWasSaved() throws {
    XCTAssertNil(try CheckpointManager(saveDir: root).loadLatest())
    XCTAssertTrue(CheckpointManager(saveDir: root).steps().isEmpty)
  }

  func testLoadLatestPicksTheHighestStepNumerically() throws {
    let manager = CheckpointManager(saveDir: root)
    for step in [9, 10, 2] { try emptySave(manager, step: step) }
    XCTAssertEqual(manager.steps().map(\.step), [2, 9, 10])
    XCTAssertEqual(try manager.loadLatest()?.state.step, 10)
  }

  func testMaxToKeepTwoLeavesOnlyTheNewestTwoCheckpoints() throws {
    let manager = CheckpointManager(saveDir: root, maxToKeep: 2)
    for step in 1...4 { try emptySave(manager, step: step) }
    XCTAssertEqual(manager.steps().map(\.step), [3, 4])
    let onDisk = try FileManager.default.contentsOfDirectory(atPath: manager.directory.path).sorted()
    XCTAssertEqual(onDisk, ["step_3", "step_4"])
  }

  func testIncompleteAndTemporaryDirectoriesAreIgnored() throws {
    let manager = CheckpointManager(saveDir: root)
    try emptySave(manager, step: 3)
    let fm = FileManager.default
    let stale = manager.directory.appendingPathComponent(".tmp-step_9-xyz", isDirectory: true)
    try fm.createDirectory(at: stale, withIntermediateDirectories: true)
    try Data("{\"step\": 9}".utf8).write(to: stale.appendingPathComponent("state.json"))
    let incomplete = manager.directory.appendingPathComponent("step_7", isDirectory: true)
    try fm.createDirectory(at: incomplete, withIntermediateDirectories: true)
    try Data().write(to: incomplete.appendingPathComponent("model.safetensors"))

    XCTAssertEqual(manager.steps().map(\.step), [3])
    XCTAssertEqual(try manager.loadLatest()?.state.step, 3)
  }

  func testSavingRemovesStaleTemporaryDirectories() throws {
    let manager = CheckpointManager(saveDir: root)
    let stale = manager.directory.appendingPathComponent(".tmp-step_9-xyz", isDirectory: true)
    try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
    try emptySave(manager, step: 1)
    XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: manager.directory.path), ["step_1"])
  }

  func testAStepFolderLeftWithoutStateJSONByAnInterruptedPruneIsRemovedByTheNextSave() throws {
    // kill -9 while FileManager deleted an old checkpoint file by file left empty step_<N>
    // folders (found by tools/fuzz/kill_resume.sh); pruning now renames before deleting.
    let manager = CheckpointManager(saveDir: root, maxToKeep: 2)
    try emptySave(manager, step: 1)
    let leftover = manager.directory.appendingPathComponent("step_0", isDirectory: true)
    try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: true)
    try Data().write(to: leftover.appendingPathComponent("optimizer.safetensors"))
    try emptySave(manager, step: 2)
    try emptySave(manager, step: 3)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: manager.directory.path).sorted(), ["step_2", "step_3"])
  }

  func testAKillWhileReplacingAStepLeavesTheOldCheckpointLoadable() throws {
    // The state a kill leaves between setting the old step_5 aside and moving the new one in.
    let manager = CheckpointManager(saveDir: root)
    try emptySave(manager, step: 5)
    let fm = FileManager.default
    try fm.moveItem(at: manager.directory.appendingPathComponent("step_5"), to: manager.directory.appendingPathComponent(".tmp-replaced-step_5-x"))
    try fm.createDirectory(at: manager.directory.appendingPathComponent(".tmp-step_5-y"), withIntermediateDirectories: false)
    XCTAssertEqual(try manager.loadLatest()?.state.step, 5)
    try emptySave(manager, step: 6)
    XCTAssertEqual(try fm.contentsOfDirectory(atPath: manager.directory.path).sorted(), ["step_5", "step_6"])
  }

  func testNonFiniteOptimizerStateIsNeverSavedAsLoadingWouldRefuseIt() throws {
    let manager = CheckpointManager(saveDir: root)
    var optimizer = StateDict()
    optimizer["layers.0.weight.exp_avg_sq"] = .init(try Tensor(shape: [2], scalars: [1, .infinity]))
    XCTAssertThrowsError(try manager.save(step: 3, model: SmallModel().stateDict(), optimizer: optimizer, state: CheckpointState(step: 3))) { error in
      XCTAssertTrue("\(error)".contains("layers.0.weight.exp_avg_sq"), "\(error)")
      XCTAssertTrue("\(error)".contains("step 3"), "\(error)")
    }
    XCTAssertEqual(manager.steps().count, 0)
  }

  func testSavingTheSameStepAgainReplacesIt() throws {
    let manager = CheckpointManager(saveDir: root)
    try manager.save(step: 5, model: SmallModel(seed: 1).stateDict(), optimizer: StateDict(), state: CheckpointState(step: 5, configHash: "old"))
    try manager.save(step: 5, model: SmallModel(seed: 2).stateDict(), optimizer: StateDict(), state: CheckpointState(step: 5, configHash: "new"))
    XCTAssertEqual(manager.steps().map(\.step), [5])
    let loaded = try XCTUnwrap(try manager.loadLatest())
    XCTAssertEqual(loaded.state.configHash, "new")
    assertIdentical(try XCTUnwrap(loaded.model["layers.0.weight"]).tensor,
                    try XCTUnwrap(SmallModel(seed: 2).stateDict()["layers.0.weight"]).tensor, "layers.0.weight")
  }

  func testLoadingADirectoryWithoutStateJSONThrowsNamingThePath() throws {
    let dir = root.appendingPathComponent("step_3", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let message = errorMessage("load without state.json") { try CheckpointManager.load(dir) }
    assertMentions(message, [dir.path, "state.json"])
  }

  func testLoadingAnInvalidStateJSONThrowsNamingTheFile() throws {
    let dir = root.appendingPathComponent("step_3", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data("{\"step\": \"three\"}".utf8).write(to: dir.appendingPathComponent("state.json"))
    let message = errorMessage("load with bad state.json") { try CheckpointManager.load(dir) }
    assertMentions(message, [dir.appendingPathComponent("state.json").path, "not a valid checkpoint state"])
  }

  func testLoadingACheckpointIntoAModelOfAnotherShapeThrowsTheStrictLoadingError() throws {
    let manager = CheckpointManager(saveDir: root)
    try manager.save(step: 1, model: SmallModel(hidden: 4).stateDict(), optimizer: StateDict(), state: CheckpointState(step: 1))
    let loaded = try XCTUnwrap(try manager.loadLatest())
    let wider = SmallModel(hidden: 6)
    let message = errorMessage("load into another shape") { try wider.loadStateDict(loaded.model, origin: loaded.directory.path) }
    assertMentions(message, [loaded.directory.path, "layers.0.weight", "model has [6, 3]", "file has [4, 3]",
                             "layers.1.running_mean", "layers.3.weight", "[1, 6]", "[1, 4]"])
  }

  func testModelCanBeSavedInHalfPrecisionKeepingIntegerBuffers() throws {
    let manager = CheckpointManager(saveDir: root)
    let model = SmallModel()
    let dir = try manager.save(step: 1, model: model.stateDict(), optimizer: StateDict(), state: CheckpointState(step: 1), modelDType: .bf16)
    let file = try SafetensorsFile(contentsOf: dir.appendingPathComponent("model.safetensors"))
    XCTAssertEqual(file.entries["layers.0.weight"]?.dtype, .bf16)
    XCTAssertEqual(file.entries["layers.1.num_batches_tracked"]?.dtype, .i64)
    XCTAssertEqual(file.metadata["format"], "pt")
    XCTAssertEqual(file.metadata["step"], "1")
    assertClose(try file.tensor("layers.0.weight"), try XCTUnwrap(model.stateDict()["layers.0.weight"]).tensor,
                rtol: 1.0 / 256, atol: 0, "bf16 weights")
  }
}
