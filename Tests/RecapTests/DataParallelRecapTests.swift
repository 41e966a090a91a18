import Foundation
import XCTest
@testable import Recap
import TMLData
import TMLDistributed
import TMLNN

/// `mpirun -np 2 tml recap train` against one process: the same global batches split over
/// two ranks give the same model (SyncBatchNorm, averaged gradients, Adam), the same loss
/// curve and the same evaluation metrics over all ranks' predictions; bad inputs stop the
/// job with an error naming the rank and the file, never a hang. Skipped when mpirun or
/// the `tml` binary is missing.
final class DataParallelRecapTests: XCTestCase {
  var dir: URL!
  let globalBatch = 64
  let steps = 20

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("recap-dp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  var tml: String {
    #if os(macOS)
    let products = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL.deletingLastPathComponent() ?? Bundle.main.bundleURL
    #else
    let products = Bundle.main.bundleURL
    #endif
    return products.appendingPathComponent("tml").path
  }

  func requireMPI() throws {
    try XCTSkipIf(MPILauncher.mpirun() == nil, "mpirun is not installed (bash scripts/install-deps.sh installs Open MPI)")
    try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tml), "\(tml) is not built")
  }

  /// configs/recap/small.yaml, tiny: `steps` steps, batch `globalBatch`, no shuffling and no
  /// dropout (so two runs see the same rows in the same steps), train inputs `trainGlob`.
  /// The towers lose their Linear → BatchNorm pairs: a BatchNorm removes the bias of the
  /// Linear before it, whose gradient is then exactly 0 and in floats rounding noise that
  /// Adam scales to ±lr, so that bias is noise in any two runs that sum in another order.
  /// The featurization's (affine) BatchNorm stays; the tower kind is checked in
  /// TMLTensorTests' SyncBatchNorm test.
  func config(_ name: String, trainGlob: String, save: String) throws -> String {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var text = try String(contentsOf: repo.appendingPathComponent("configs/recap/small.yaml"), encoding: .utf8)
    let edits = [
      ("data/recap_small/train/part-*.tfrecord.gz", trainGlob),
      ("data/recap_small", dir.appendingPathComponent("data").path),
      ("save_dir: runs/recap_small", "save_dir: \(dir.appendingPathComponent(save).path)"),
      ("num_train_steps: 1000", "num_train_steps: \(steps)"),
      ("checkpoint_every_n: 250", "checkpoint_every_n: 10"),
      ("checkpoint_max_to_keep: 2", "checkpoint_max_to_keep: 5"),
      ("train_log_every_n: 50", "train_log_every_n: 10"),
      ("global_batch_size: 128", "global_batch_size: \(globalBatch)"),
      ("examples_shuffle_buffer_size: 1024", "examples_shuffle_buffer_size: 1"),
      ("        dropout:\n          rate: 0.1\n", ""),
      ("        batch_norm:\n          affine: false\n          momentum: 0.1\n", ""),
      ("schema_path: small_segdense.json", "schema_path: \(repo.appendingPathComponent("configs/recap/small_segdense.json").path)"),
    ]
    for (a, b) in edits {
      XCTAssertTrue(text.contains(a), "small.yaml has no \(a)")
      text = text.replacingOccurrences(of: a, with: b)
    }
    let path = dir.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// Two train files a, b for 2 ranks, and for 1 rank one file holding the same global
  /// batches: B/2 rows of a then B/2 rows of b, batch after batch.
  func writeData() throws -> (twoRanks: String, oneRank: String) {
    let gen = try RecapRun(configPath: try config("gen.yaml", trainGlob: dir.appendingPathComponent("data/train/part-*.tfrecord.gz").path, save: "gen"))
    try gen.generateData(examples: 2 * globalBatch * (steps + 2), files: 2)
    let files = try FileGlob.expand(dir.appendingPathComponent("data/train/part-*.tfrecord.gz").path)
    XCTAssertEqual(files.count, 2)
    let readers = try files.map { try TFRecordReader(path: $0) }
    let one = dir.appendingPathComponent("one/interleaved.tfrecord").path
    try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("one").path, withIntermediateDirectories: true)
    let writer = try TFRecordWriter(path: one, compressed: false)
    var done = false
    while !done {
      for r in readers {
        for _ in 0..<globalBatch / 2 {
          guard let rec = try r.next() else { done = true; break }
          try writer.write(rec)
        }
      }
    }
    try writer.close()
    return (dir.appendingPathComponent("data/train/part-*.tfrecord.gz").path, one)
  }

  func model(_ save: String, step: Int) throws -> StateDict {
    try SafetensorsFile(contentsOf: dir.appendingPathComponent("\(save)/checkpoints/step_\(step)/model.safetensors")).stateDict()
  }

  func logged(_ save: String, kind: String) throws -> [Int: [String: Double]] {
    let text = try String(contentsOf: dir.appendingPathComponent("\(save)/metrics.jsonl"), encoding: .utf8)
    var out: [Int: [String: Double]] = [:]
    for line in text.split(separator: "\n") {
      let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      guard obj["kind"] as? String == kind, let step = obj["step"] as? Int else { continue }
      out[step] = obj.compactMapValues { $0 as? Double }
    }
    return out
  }

  /// max |a − b| / max |b| over each tensor.
  func assertClose(_ a: StateDict, _ b: StateDict, tolerance: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.entries.map(\.0), b.entries.map(\.0), file: file, line: line)
    for (name, ea) in a.entries {
      guard let eb = b[name] else { continue }
      let x = ea.tensor.scalars, y = eb.tensor.scalars
      let scale = max(Double(y.map { abs($0) }.max() ?? 0), 1e-30)
      let diff = zip(x, y).map { Double(abs($0 - $1)) }.max() ?? 0
      XCTAssertLessThanOrEqual(diff / scale, tolerance, "\(name): max |Δ| \(diff), max |value| \(scale)", file: file, line: line)
    }
  }

  func relative(_ a: Double?, _ b: Double?) -> Double {
    guard let a, let b else { return .infinity }
    return abs(a - b) / max(abs(b), 1e-30)
  }

  func testTwoRanksWithGlobalBatchBEqualOneProcessWithBatchBAfter20AdamSteps() throws {
    try requireMPI()
    let data = try writeData()
    let two = try config("two.yaml", trainGlob: data.twoRanks, save: "two")
    let mpi = try MPILauncher.run(ranks: 2, program: tml, arguments: ["recap", "train", "--config", two], timeout: 300)
    XCTAssertEqual(mpi.status, 0, mpi.output)
    XCTAssertTrue(mpi.output.contains("data-parallel on 2 ranks: \(globalBatch / 2) rows per rank"), mpi.output)

    let run = try RecapRun(configPath: try config("one.yaml", trainGlob: data.oneRank, save: "one"))
    let evals = try run.train(onEvent: { _ in })

    // The model has a BatchNorm (the featurization's), synchronised across the ranks.
    let one = try model("one", step: steps)
    XCTAssertTrue(one.entries.contains { $0.0.hasSuffix("running_var") })
    XCTAssertNotNil(one["_preprocessor._before_concat_layers.2.layer.weight"])
    assertClose(try model("two", step: steps), one, tolerance: 1e-5)
    let lossOne = try logged("one", kind: "train"), lossTwo = try logged("two", kind: "train")
    for step in [10, 20] {
      XCTAssertLessThanOrEqual(relative(lossTwo[step]?["loss"], lossOne[step]?["loss"]), 1e-5, "train loss at step \(step)")
    }
    // Evaluation over all ranks' predictions: the same AUROC as one process.
    let evalTwo = try logged("two", kind: "eval/validation")[steps] ?? [:]
    let auroc = "recap.engagement.is_favorited/auroc"
    XCTAssertNotNil(evals["validation"]?.metrics[auroc])
    XCTAssertLessThanOrEqual(relative(evalTwo[auroc], evals["validation"]?.metrics[auroc]), 1e-5)
    XCTAssertEqual(evalTwo["examples"], Double(evals["validation"]?.examples ?? -1))
  }
}
