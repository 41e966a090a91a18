import Foundation
import TMLNN
import TMLTrain
import XCTest
@testable import Recap

/// Exact resume, config-change warnings, damaged checkpoints, `--resume-from` and the
/// save-dir lock, on configs/recap/small.yaml as shipped except for a batch of 32 (not
/// 128) and 2 evaluation batches (not 20), to keep the tests fast.
extension RecapRunTests {
  static let fast = [("global_batch_size: 128", "global_batch_size: 32"), ("num_eval_steps: 20", "num_eval_steps: 2")]

  /// A run of the fast small.yaml (`edits` on top) in `saveDir`, with data generated once.
  func fastRun(steps: Int? = nil, saveDir: String = "run", _ edits: [(String, String)] = []) throws -> RecapRun {
    let run = try RecapRun(configPath: try tinyConfig(steps: 30, RecapRunTests.fast + edits), saveDir: dir.appendingPathComponent(saveDir).path, steps: steps)
    if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("data").path) { _ = try run.generateData(examples: 1_000, files: 2) }
    return run
  }

  /// The resume and warning events of a run, in order.
  func train(_ run: RecapRun) throws -> [String] {
    var events: [String] = []
    try run.train(onEvent: { e in
      switch e {
      case .resumed(let step, _): events.append("resumed \(step)")
      case .warning(let w): events.append("warning \(w)")
      default: break
      }
    })
    return events
  }

  func testAResumedRunWithDropoutEndsBitwiseEqualToAnUninterruptedOne() throws {
    let whole = try fastRun(saveDir: "whole")
    XCTAssertEqual(try whole.makeModel().randomStreams().keys.sorted(), ["layers.3", "layers.7"].map { "module/_towers.recap__engagement__is_negative_feedback_v2.\($0)" },
                   "small.yaml's negative-feedback tower has dropout after each hidden layer")
    XCTAssertEqual(try train(whole), [])
    XCTAssertEqual(try train(try fastRun(steps: 15, saveDir: "parts")), [])
    XCTAssertEqual(try train(try fastRun(saveDir: "parts")), ["resumed 15"], "only the length changed: no warning")
    let a = dir.appendingPathComponent("whole/checkpoints/step_30"), b = dir.appendingPathComponent("parts/checkpoints/step_30")
    for file in ["model.safetensors", "optimizer.safetensors", "state.json"] {
      XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(file)), try Data(contentsOf: b.appendingPathComponent(file)),
                     "\(file): every parameter, buffer, optimizer state and random stream is bitwise equal")
    }
  }

  func testResumingWithAChangedConfigWarns() throws {
    _ = try train(try fastRun(steps: 5))
    let events = try train(try fastRun(steps: 10, [("learning_rate: 0.002", "learning_rate: 0.001")]))
    XCTAssertEqual(events.count, 2, "\(events)")
    XCTAssertTrue(events[0].hasPrefix("warning resuming from \(dir.appendingPathComponent("run/checkpoints/step_5").path)"), "\(events)")
    XCTAssertTrue(events[0].contains("different config"), events[0])
    XCTAssertEqual(events[1], "resumed 5")
  }

  func testResumingWithOnlyMoreStepsDoesNotWarn() throws {
    _ = try train(try fastRun(steps: 5))
    XCTAssertEqual(try train(try fastRun(steps: 10)), ["resumed 5"])
  }

  func testADamagedNewestCheckpointStopsTheRunAndResumeFromTheOlderStepContinues() throws {
    _ = try train(try fastRun(steps: 10, [("checkpoint_every_n: 20", "checkpoint_every_n: 5")]))
    let newest = dir.appendingPathComponent("run/checkpoints/step_10")
    var bytes = try Data(contentsOf: newest.appendingPathComponent("model.safetensors"))
    bytes[bytes.count / 2] ^= 1
    try bytes.write(to: newest.appendingPathComponent("model.safetensors"))
    XCTAssertThrowsError(try train(try fastRun(steps: 15, [("checkpoint_every_n: 20", "checkpoint_every_n: 5")]))) { e in
      for part in ["newest checkpoint step_10", newest.appendingPathComponent("model.safetensors").path, "is damaged", "--resume-from step_5"] {
        XCTAssertTrue("\(e)".contains(part), "\(e) should mention \(part)")
      }
    }
    let retry = try fastRun(steps: 15, [("checkpoint_every_n: 20", "checkpoint_every_n: 5")])
    retry.resumeFrom = "step_5"
    let events = try train(retry)
    XCTAssertEqual(events.last, "resumed 5")
    XCTAssertTrue(events.first?.contains("set aside \(newest.path).superseded-") == true, "\(events)")
    XCTAssertEqual(CheckpointManager(saveDir: retry.saveDir).steps().map(\.step), [10, 15])
  }

  func testTrainingInASaveDirInUseFailsAtOnceNamingTheHolder() throws {
    let run = try fastRun()
    let lock = try SaveDirLock(saveDir: run.saveDir)
    defer { lock.unlock() }
    XCTAssertThrowsError(try run.train(onEvent: { _ in })) { e in
      XCTAssertTrue("\(e)".contains("save_dir \(run.saveDir.path) is in use by pid \(getpid())"), "\(e)")
    }
    XCTAssertTrue(CheckpointManager(saveDir: run.saveDir).steps().isEmpty, "nothing was written")
  }
}
