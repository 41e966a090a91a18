import Foundation
import TMLNN
import TMLTensor
import XCTest

/// Checksums, step/folder agreement, damaged newest checkpoints and `--resume-from`.
final class CheckpointIntegrityTests: XCTestCase {
  private var root: URL!

  override func setUpWithError() throws { root = try makeTemporaryDirectory("checkpoint-integrity") }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

  @discardableResult
  private func save(_ manager: CheckpointManager, step: Int) throws -> URL {
    try manager.save(step: step, model: SmallModel(seed: UInt64(step)).stateDict(), optimizer: StateDict(), state: CheckpointState(step: step))
  }

  /// Flips one byte in the middle of `file` (inside the tensor data, past the header).
  private func damage(_ file: URL) throws {
    var bytes = try Data(contentsOf: file)
    bytes[bytes.count - 5] ^= 0x40
    try bytes.write(to: file)
  }

  func testStateJSONRecordsTheCRC32COfEachTensorFile() throws {
    let dir = try save(CheckpointManager(saveDir: root), step: 1)
    let state = try CheckpointManager.load(dir).state
    XCTAssertEqual(state.format, 2)
    for file in ["model.safetensors", "optimizer.safetensors"] {
      let crc = try Data(contentsOf: dir.appendingPathComponent(file)).withUnsafeBytes { CRC32C.checksum($0) }
      XCTAssertEqual(state.crc32c?[file], String(format: "%08x", crc), file)
    }
  }

  func testADamagedStateJSONIsAnErrorNamingIt() throws {
    let dir = try save(CheckpointManager(saveDir: root), step: 1)
    let state = dir.appendingPathComponent("state.json")
    XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("state.json.crc32c"), encoding: .utf8),
                   String(format: "%08x", try Data(contentsOf: state).withUnsafeBytes { CRC32C.checksum($0) }))
    // A change that still parses (the format number).
    var text = try String(contentsOf: state, encoding: .utf8)
    text = text.replacingOccurrences(of: "\"format\" : 2", with: "\"format\" : 1")
    try text.write(to: state, atomically: true, encoding: .utf8)
    let message = errorMessage("load a checkpoint whose state.json changed") { try CheckpointManager.load(dir) }
    assertMentions(message, [state.path, "is damaged", "state.json.crc32c"])
    // Checkpoints from before the checksum file load as before.
    try FileManager.default.removeItem(at: dir.appendingPathComponent("state.json.crc32c"))
    XCTAssertNoThrow(try CheckpointManager.load(dir))
  }

  func testADamagedTensorFileIsAnErrorNamingIt() throws {
    let dir = try save(CheckpointManager(saveDir: root), step: 1)
    try damage(dir.appendingPathComponent("model.safetensors"))
    let message = errorMessage("load a damaged checkpoint") { try CheckpointManager.load(dir) }
    assertMentions(message, [dir.appendingPathComponent("model.safetensors").path, "is damaged", "CRC-32C"])
  }

  func testADamagedNewestCheckpointNamesItAndTheOlderIntactStep() throws {
    let manager = CheckpointManager(saveDir: root)
    for step in [10, 20] { try save(manager, step: step) }
    let newest = try save(manager, step: 30)
    try damage(newest.appendingPathComponent("model.safetensors"))
    let message = errorMessage("resume from a damaged newest checkpoint") { try manager.loadLatest() }
    assertMentions(message, ["newest checkpoint step_30", newest.appendingPathComponent("model.safetensors").path, "step_20 is intact",
                             "--resume-from step_20", "delete \(newest.path)"])
  }

  func testADamagedNewestCheckpointWithNoIntactOlderOneSaysToDeleteIt() throws {
    let manager = CheckpointManager(saveDir: root)
    let only = try save(manager, step: 5)
    try damage(only.appendingPathComponent("optimizer.safetensors"))
    let message = errorMessage("resume from the only, damaged checkpoint") { try manager.loadLatest() }
    assertMentions(message, ["newest checkpoint step_5", "No older checkpoint", "delete \(only.path)"])
  }

  func testAStepInStateJSONThatIsNotTheFoldersIsAnError() throws {
    let manager = CheckpointManager(saveDir: root)
    let dir = try save(manager, step: 4)
    let renamed = manager.directory.appendingPathComponent("step_40")
    try FileManager.default.moveItem(at: dir, to: renamed)
    let message = errorMessage("load a renamed checkpoint") { try CheckpointManager.load(renamed) }
    assertMentions(message, [renamed.appendingPathComponent("state.json").path, "records step 4", "its folder is step_40"])
  }

  func testAFormat1CheckpointWithoutChecksumsStillLoads() throws {
    let dir = try save(CheckpointManager(saveDir: root), step: 3)
    let stateURL = dir.appendingPathComponent("state.json")
    var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: stateURL)) as? [String: Any])
    json["format"] = 1
    json["crc32c"] = nil
    try JSONSerialization.data(withJSONObject: json).write(to: stateURL)
    try FileManager.default.removeItem(at: dir.appendingPathComponent("state.json.crc32c"))  // format 1 had none
    let loaded = try CheckpointManager.load(dir)
    XCTAssertEqual(loaded.state.format, 1)
    XCTAssertNil(loaded.state.crc32c)
    XCTAssertEqual(loaded.model.names, SmallModel().stateDict().names)
  }

  func testResumeFromAnOlderStepSetsTheNewerOnesAside() throws {
    let manager = CheckpointManager(saveDir: root, maxToKeep: 2)
    for step in [10, 20] { try save(manager, step: step) }
    try damage(manager.directory.appendingPathComponent("step_20/model.safetensors"))
    let resume = try XCTUnwrap(try manager.resume(from: "step_10"))
    XCTAssertEqual(resume.checkpoint.state.step, 10)
    XCTAssertEqual(resume.setAside.count, 1)
    XCTAssertTrue(resume.setAside[0].lastPathComponent.hasPrefix("step_20.superseded-"), resume.setAside[0].path)
    XCTAssertTrue(FileManager.default.fileExists(atPath: resume.setAside[0].appendingPathComponent("model.safetensors").path), "kept, not deleted")
    XCTAssertEqual(manager.steps().map(\.step), [10], "the resumed step is now the newest")
    try save(manager, step: 15)
    try save(manager, step: 16)
    XCTAssertEqual(manager.steps().map(\.step), [15, 16])
    XCTAssertTrue(FileManager.default.fileExists(atPath: resume.setAside[0].path), "pruning leaves set-aside checkpoints alone")
    XCTAssertEqual(try manager.resume(from: "16")?.checkpoint.state.step, 16, "a bare step number works too")
    XCTAssertEqual(try manager.resume(from: manager.directory.appendingPathComponent("step_15").path)?.checkpoint.state.step, 15, "and a path")
  }

  func testResumeFromAMissingStepListsTheCompleteOnes() throws {
    let manager = CheckpointManager(saveDir: root)
    for step in [10, 20] { try save(manager, step: step) }
    assertMentions(errorMessage("unknown step") { try manager.resume(from: "step_15") },
                   ["--resume-from step_15", "no checkpoint step_15", "step_10, step_20"])
    assertMentions(errorMessage("another save dir") { try manager.resume(from: "/elsewhere/checkpoints/step_10") },
                   ["not a checkpoint of this save dir", manager.directory.path, "initial_checkpoint_dir"])
    XCTAssertEqual(manager.steps().map(\.step), [10, 20], "nothing set aside on error")
  }
}
