import Foundation
import TMLNN
import TMLTensor
import XCTest
@testable import TMLDistributed

/// `tml twhin train` under `mpirun` (tables sharded over the ranks) against the same run
/// in one process: the loss of every step and the final tables agree within 1e-5
/// relative, and a checkpoint written by 2 ranks resumes on 1 and on 3 ranks with the
/// next step's loss of the uninterrupted run.
final class ShardedTwHINTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    try XCTSkipIf(MPILauncher.mpirun() == nil, "mpirun is not installed (bash scripts/install-deps.sh installs Open MPI)")
    try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: MPICollectiveTests.tml), "\(MPICollectiveTests.tml) is not built")
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("sharded-twhin-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    _ = try tml(["twhin", "generate-graph", "--out", dir.appendingPathComponent("g").path, "--users", "400"])
    // Log every step (the loss curve), checkpoint every 10.
    let config = dir.appendingPathComponent("g/planted.yaml")
    var text = try String(contentsOf: config, encoding: .utf8)
    text = text.replacingOccurrences(of: "train_log_every_n: 100", with: "train_log_every_n: 1")
      .replacingOccurrences(of: "checkpoint_every_n: 500", with: "checkpoint_every_n: 10")
      .replacingOccurrences(of: "checkpoint_max_to_keep: 2", with: "checkpoint_max_to_keep: 5")
    try text.write(to: config, atomically: true, encoding: .utf8)
  }

  override func tearDownWithError() throws {
    if let dir { try? FileManager.default.removeItem(at: dir) }
  }

  /// Runs tml in this process's directory (one process, no MPI), failing on a non-zero exit.
  @discardableResult
  func tml(_ arguments: [String]) throws -> String {
    let r = try MPILauncher.runSingle(program: MPICollectiveTests.tml, arguments: arguments, directory: dir, timeout: 240)
    XCTAssertEqual(r.status, 0, "tml \(arguments.joined(separator: " ")):\n\(r.output)")
    return r.output
  }

  func train(ranks: Int, saveDir: String, steps: Int) throws {
    let args = ["twhin", "train", "--config", dir.appendingPathComponent("g/planted.yaml").path,
                "--save-dir", dir.appendingPathComponent(saveDir).path, "--steps", "\(steps)"]
    if ranks == 1 { try tml(args); return }
    let r = try MPILauncher.run(ranks: ranks, program: MPICollectiveTests.tml, arguments: args, timeout: 240)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("rank 0 of \(ranks)"), r.output)
  }

  /// step → loss from a run's metrics.jsonl.
  func losses(_ saveDir: String) throws -> [Int: Double] {
    let text = try String(contentsOf: dir.appendingPathComponent("\(saveDir)/metrics.jsonl"), encoding: .utf8)
    var out: [Int: Double] = [:]
    for line in text.split(separator: "\n") {
      guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["kind"] as? String == "train",
            let step = o["step"] as? Int, let loss = o["loss"] as? Double else { continue }
      out[step] = loss
    }
    return out
  }

  /// The checkpoint's model tensors as every reader sees them (shards reassembled).
  func tables(_ saveDir: String, step: Int) throws -> [String: [Float]] {
    let ckpt = try CheckpointManager.load(dir.appendingPathComponent("\(saveDir)/checkpoints/step_\(step)"))
    var out: [String: [Float]] = [:]
    for (name, e) in ckpt.model.entries { out[name] = e.tensor.scalars }
    return out
  }

  func assertClose(_ a: Double, _ b: Double, _ what: String) {
    XCTAssertLessThanOrEqual(abs(a - b), 1e-5 * max(abs(a), abs(b), 1e-3), "\(what): \(a) vs \(b)")
  }

  func testTwoRanksGiveTheOneProcessLossCurveAndEmbeddings() throws {
    try train(ranks: 1, saveDir: "one", steps: 20)
    try train(ranks: 2, saveDir: "two", steps: 20)
    let (a, b) = (try losses("one"), try losses("two"))
    XCTAssertEqual(a.count, 20)
    XCTAssertEqual(Set(a.keys), Set(b.keys))
    for (step, loss) in a.sorted(by: { $0.key < $1.key }) { assertClose(loss, b[step] ?? .nan, "loss at step \(step)") }
    XCTAssertNotEqual(a[1], a[20], "training changed nothing")
    let (ta, tb) = (try tables("one", step: 20), try tables("two", step: 20))
    XCTAssertEqual(Set(ta.keys), Set(tb.keys))
    XCTAssertTrue(ta.keys.contains { $0.contains("embedding_bags.user") }, "\(ta.keys)")
    for (name, x) in ta {
      guard let y = tb[name] else { continue }
      XCTAssertEqual(x.count, y.count, name)
      let scale = x.map { abs($0) }.max() ?? 1
      let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
      XCTAssertLessThanOrEqual(worst, 1e-5 * max(scale, 1e-3), "\(name): max |Δ| \(worst)")
    }
  }

  func testACheckpointOfTwoRanksIsShardedAndResumesOnOneAndOnThreeRanks() throws {
    try train(ranks: 2, saveDir: "two", steps: 12)  // checkpoints at steps 10 and 12
    let step10 = dir.appendingPathComponent("two/checkpoints/step_10")
    for file in ["shard-0-of-2.safetensors", "shard-1-of-2.safetensors", "model.safetensors", "state.json"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: step10.appendingPathComponent(file).path), file)
    }
    let state = try CheckpointManager.load(step10).state
    XCTAssertEqual(state.format, 3)
    XCTAssertEqual(state.shards?.worldSize, 2)
    let full = try losses("two")
    for ranks in [1, 3] {
      let resumed = "resume\(ranks)"
      let to = dir.appendingPathComponent("\(resumed)/checkpoints")
      try FileManager.default.createDirectory(at: to, withIntermediateDirectories: true)
      try FileManager.default.copyItem(at: dir.appendingPathComponent("two/checkpoints/step_10"), to: to.appendingPathComponent("step_10"))
      try train(ranks: ranks, saveDir: resumed, steps: 12)
      let l = try losses(resumed)
      XCTAssertNil(l[10], "\(ranks) ranks: step 10 was not resumed from")
      assertClose(l[11] ?? .nan, full[11]!, "\(ranks) ranks: the loss of step 11 after resuming")
      assertClose(l[12] ?? .nan, full[12]!, "\(ranks) ranks: the loss of step 12 after resuming")
    }
  }

  func testAMissingShardIsAnErrorNamingTheRankAndFile() throws {
    try train(ranks: 2, saveDir: "two", steps: 10)
    let step10 = dir.appendingPathComponent("two/checkpoints/step_10")
    try FileManager.default.removeItem(at: step10.appendingPathComponent("shard-1-of-2.safetensors"))
    XCTAssertThrowsError(try CheckpointManager.load(step10)) { e in
      XCTAssertTrue("\(e)".contains("shard of rank 1"), "\(e)")
      XCTAssertTrue("\(e)".contains("shard-1-of-2.safetensors"), "\(e)")
      XCTAssertTrue("\(e)".contains("needs all 2 shard files"), "\(e)")
    }
    // And a run resuming from it stops on every rank with that message instead of hanging.
    let r = try MPILauncher.run(ranks: 2, program: MPICollectiveTests.tml, arguments: [
      "twhin", "train", "--config", dir.appendingPathComponent("g/planted.yaml").path,
      "--save-dir", dir.appendingPathComponent("two").path, "--steps", "12"], timeout: 120)
    XCTAssertNotEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("shard of rank 1"), r.output)
  }

  /// Periodic validation with early stopping under mpirun: rank 0 evaluates the assembled
  /// model every epoch and every rank stops, and restores its rows of the best model, as one
  /// process does (here: the MRR falls at step 84, so both keep step 72's model).
  func testPeriodicValidationAndEarlyStoppingOnTwoRanksFollowOneProcess() throws {
    let config = dir.appendingPathComponent("g/planted.yaml")
    let text = try String(contentsOf: config, encoding: .utf8)
      .replacingOccurrences(of: "validation_data:\n", with: "validation_data:\n  eval_every_n_epochs: 1\n  early_stopping_patience: 1\n")
    try text.write(to: config, atomically: true, encoding: .utf8)
    let args = { (save: String) in ["twhin", "train", "--config", config.path, "--save-dir", self.dir.appendingPathComponent(save).path] }
    let one = try tml(args("one"))
    let r = try MPILauncher.run(ranks: 2, program: MPICollectiveTests.tml, arguments: args("two"), timeout: 240)
    XCTAssertEqual(r.status, 0, r.output)
    func evals(_ save: String) throws -> [(Int, Double)] {
      let text = try String(contentsOf: dir.appendingPathComponent("\(save)/metrics.jsonl"), encoding: .utf8)
      return text.split(separator: "\n").compactMap { line in
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["kind"] as? String == "eval",
              let step = o["step"] as? Int, let mrr = o["both/mrr"] as? Double else { return nil }
        return (step, mrr)
      }
    }
    let (a, b) = (try evals("one"), try evals("two"))
    XCTAssertGreaterThan(a.count, 3)
    XCTAssertEqual(a.map(\.0), b.map(\.0), "evaluated at the same steps (0 first: before training)")
    XCTAssertEqual(a.first?.0, 0)
    for (x, y) in zip(a, b) { assertClose(x.1, y.1, "validation MRR at step \(x.0)") }
    let stop = one.split(separator: "\n").first { $0.contains("early stopping at step") }
    XCTAssertNotNil(stop, "the one-process run stops early: \(one)")
    XCTAssertTrue(r.output.contains(String(stop ?? "-")), r.output)
    let last = try XCTUnwrap(a.last?.0)
    let (ta, tb) = (try tables("one", step: last), try tables("two", step: last))
    for (name, x) in ta {
      let y = try XCTUnwrap(tb[name], name)
      let scale = x.map { abs($0) }.max() ?? 1
      XCTAssertLessThanOrEqual(zip(x, y).map { abs($0 - $1) }.max() ?? 0, 1e-5 * max(scale, 1e-3), "\(name) after restoring the best model")
    }
  }
}
