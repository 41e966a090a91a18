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
  let globalBatch = 48
  let steps = 20
  let tableRows = 61

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

  /// configs/recap/small.yaml, tiny: `steps` steps, batch `globalBatch`, no shuffling (so two
  /// runs see the same rows in the same steps), train inputs `trainGlob`. Its dropout (0.1
  /// in the negative-feedback tower) stays: each rank draws the global batch's masks and
  /// uses its rows' (`ReplicaSlice`), so N ranks drop what one process drops.
  /// The towers lose their Linear → BatchNorm pairs: a BatchNorm removes the bias of the
  /// Linear before it, whose gradient is then exactly 0 and in floats rounding noise that
  /// Adam scales to ±lr, so that bias is noise in any two runs that sum in another order.
  /// The featurization's (affine) BatchNorm stays; the tower kind is checked in
  /// TMLTensorTests' SyncBatchNorm test.
  /// With `idTable`, a `large_embeddings` table of `tableRows` rows over meta__author_id
  /// (row-sharded over the ranks under mpirun) in place of the author embedding, and a
  /// `small_embeddings` table over discrete column 1 (replicated, all-reduced like the dense layers).
  func config(_ name: String, trainGlob: String, save: String, idTable: Bool = false) throws -> String {
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
      ("        batch_norm:\n          affine: false\n          momentum: 0.1\n", ""),
      ("schema_path: small_segdense.json", "schema_path: \(repo.appendingPathComponent("configs/recap/small_segdense.json").path)"),
    ]
    let table = [
      ("  multi_task_type: share_all\n", "  multi_task_type: share_all\n  large_embeddings:\n    tables:\n      - name: meta__author_id\n        num_embeddings: \(tableRows)\n        embedding_dim: 4\n    optimizer:\n      init_learning_rate: 0.5\n"
        + "  small_embeddings:\n    tables:\n      - name: discrete_1\n        num_embeddings: 50\n        embedding_dim: 3\n        index: 1\n"),
      ("      author_embedding: author.twhin_follow_embedding\n", ""),
    ]
    text = editedConfig(text, edits + (idTable ? table : []), name: "small.yaml")
    let path = dir.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// Training data for `ranks` ranks that gives every rank count the same global batches:
  /// generated rows in order, cut into global batches of `globalBatch`, and file r (of
  /// `ranks`) holding rows [r·B/N, (r+1)·B/N) of each. Returns the files' glob.
  func writeData(ranks: [Int], idTable: Bool = false) throws -> [Int: String] {
    let gen = try RecapRun(configPath: try config("gen.yaml", trainGlob: dir.appendingPathComponent("data/train/part-*.tfrecord.gz").path, save: "gen",
                                                  idTable: idTable))
    try gen.generateData(examples: globalBatch * (steps + 2), files: 1)
    let reader = try TFRecordReader(path: try FileGlob.expand(dir.appendingPathComponent("data/train/part-*.tfrecord.gz").path)[0])
    var rows: [[UInt8]] = []
    while let r = try reader.next() { rows.append(r) }
    var globs: [Int: String] = [:]
    for n in ranks {
      let folder = dir.appendingPathComponent("ranks\(n)")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let local = globalBatch / n
      for r in 0..<n {
        let writer = try TFRecordWriter(path: folder.appendingPathComponent("part-\(r).tfrecord").path, compressed: false)
        for start in stride(from: 0, to: rows.count - globalBatch + 1, by: globalBatch) {
          for row in rows[(start + r * local)..<(start + (r + 1) * local)] { try writer.write(row) }
        }
        try writer.close()
      }
      globs[n] = folder.appendingPathComponent("part-*.tfrecord").path
    }
    return globs
  }

  /// The model of checkpoint `step` (sharded ones reassembled).
  func model(_ save: String, step: Int) throws -> StateDict {
    try CheckpointManager.load(dir.appendingPathComponent("\(save)/checkpoints/step_\(step)")).model
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
    XCTAssertEqual(a.entries.map(\.0).sorted(), b.entries.map(\.0).sorted(), file: file, line: line)
    for (name, ea) in a.entries {
      guard let eb = b[name] else { continue }
      let x = ea.tensor.scalars, y = eb.tensor.scalars
      let scale = max(Double(y.map { abs($0) }.max() ?? 0), 1e-30)
      let diff = zip(x, y).map { Double(abs($0 - $1)) }.max() ?? 0
      XCTAssertLessThanOrEqual(diff / scale, tolerance, "\(name): max |Δ| \(diff), max |value| \(scale)", file: file, line: line)
    }
  }

  /// `mpirun -np ranks tml recap train --config path extra…`, which must fail saying every
  /// one of `parts` (a bad input is an error naming what to fix, never a hang).
  func assertJobFails(config path: String, ranks: Int = 2, extra: [String] = [], mentioning parts: [String],
                      file: StaticString = #filePath, line: UInt = #line) throws {
    let r = try MPILauncher.run(ranks: ranks, program: tml, arguments: ["recap", "train", "--config", path] + extra, timeout: 120)
    XCTAssertNotEqual(r.status, 0, file: file, line: line)
    for part in parts { XCTAssertTrue(r.output.contains(part), "\(part) missing from: \(r.output)", file: file, line: line) }
  }

  func relative(_ a: Double?, _ b: Double?) -> Double {
    guard let a, let b else { return .infinity }
    return abs(a - b) / max(abs(b), 1e-30)
  }

  func testTwoRanksWithGlobalBatchBEqualOneProcessWithBatchBAfter20AdamSteps() throws {
    try checkTwoRanksEqualOneProcess(idTable: false)
  }

  /// The same with a `large_embeddings` table row-sharded over the two ranks (ids and rows
  /// exchanged with all-to-all, SGD by the rows' owners): the same table and dense layers
  /// as one process holding the whole table, and a sharded checkpoint that one process reads.
  func testTwoRanksWithAShardedIdTableEqualOneProcessAfter20AdamSteps() throws {
    try checkTwoRanksEqualOneProcess(idTable: true)
    let name = "embeddings.ebc.embedding_bags.meta__author_id.weight"
    let ckpt = dir.appendingPathComponent("two/checkpoints/step_\(steps)")
    let state = try JSONDecoder().decode(CheckpointState.self, from: Data(contentsOf: ckpt.appendingPathComponent("state.json")))
    XCTAssertEqual(state.shards?.worldSize, 2)
    XCTAssertEqual(state.shards?.rows["model/" + name], tableRows)
    XCTAssertNil(try SafetensorsFile(contentsOf: ckpt.appendingPathComponent("model.safetensors")).stateDict()[name],
                 "the table lives in the shard files only")
    for r in 0..<2 {
      let shard = try SafetensorsFile(contentsOf: ckpt.appendingPathComponent("shard-\(r)-of-2.safetensors")).stateDict()
      XCTAssertEqual(shard["model/" + name]?.tensor.shape, [tableRows / 2 + (r < tableRows % 2 ? 1 : 0), 4])
    }
    XCTAssertNotNil(try model("two", step: steps)["small_embeddings.embedding_bags.discrete_1.weight"], "the small table is in the model")
    // The table trained (its rows moved from the initial ones; equal to one process's above).
    let initial = try RecapRun(configPath: dir.appendingPathComponent("one.yaml").path).makeModel().stateDict()[name]!.tensor.scalars
    let trained = try XCTUnwrap(try model("two", step: steps)[name]).tensor.scalars
    XCTAssertGreaterThan(zip(trained, initial).map { abs($0 - $1) }.max() ?? 0, 1e-3, "the rows moved by far more than the 1e-5 tolerance")
    // `tml recap predict` reads the sharded checkpoint in one process: the one-process model's scores.
    let cfg = dir.appendingPathComponent("one.yaml").path
    let input = dir.appendingPathComponent("ranks1/part-*.tfrecord").path
    var scores: [[String]] = []
    for save in ["one", "two"] {
      let out = dir.appendingPathComponent("\(save)-pred.tsv").path
      let r = try MPILauncher.runSingle(program: tml, arguments: ["recap", "predict", "--config", cfg, "--checkpoint", dir.appendingPathComponent(save).path,
                                                                   "--input", input, "--output", out])
      XCTAssertEqual(r.status, 0, r.output)
      scores.append(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init))
    }
    XCTAssertEqual(scores[0].count, scores[1].count)
    XCTAssertGreaterThan(scores[0].count, globalBatch)
    var worst = 0.0
    for (a, b) in zip(scores[0].dropFirst(), scores[1].dropFirst()) {
      for (x, y) in zip(a.split(separator: "\t"), b.split(separator: "\t")) {
        if let x = Double(x), let y = Double(y) { worst = max(worst, abs(x - y)) }
      }
    }
    XCTAssertLessThan(worst, 1e-4, "predictions from the 2-rank sharded checkpoint vs the 1-process one")
  }

  /// The gradient all-reduce started during backward (`SWIFTTML_OVERLAP_ALLREDUCE=1`; on one
  /// machine it runs after backward by default), with the sharded table's all-to-alls
  /// inside the same backward: the same model as one process.
  func testTwoRanksOverlappingTheAllReduceWithBackwardEqualOneProcess() throws {
    try checkTwoRanksEqualOneProcess(idTable: true, overlap: true)
  }

  func checkTwoRanksEqualOneProcess(idTable: Bool, overlap: Bool = false) throws {
    try requireMPI()
    let data = try writeData(ranks: [1, 2], idTable: idTable)
    let two = try config("two.yaml", trainGlob: data[2]!, save: "two", idTable: idTable)
    let mpi = try MPILauncher.run(ranks: 2, program: tml, arguments: ["recap", "train", "--config", two],
                                  environment: overlap ? ["SWIFTTML_OVERLAP_ALLREDUCE": "1"] : [:], timeout: 300)
    XCTAssertEqual(mpi.status, 0, mpi.output)
    XCTAssertTrue(mpi.output.contains("data-parallel on 2 ranks: \(globalBatch / 2) rows per rank"), mpi.output)
    XCTAssertTrue(mpi.output.contains(overlap ? "gradient all-reduce started during backward" : "gradient all-reduce after backward"), mpi.output)
    XCTAssertEqual(mpi.output.contains("large_embeddings tables row-sharded over the ranks"), idTable, mpi.output)

    let run = try RecapRun(configPath: try config("one.yaml", trainGlob: data[1]!, save: "one", idTable: idTable))
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
    XCTAssertLessThanOrEqual(relative(evalTwo["loss"], evals["validation"]?.loss), 1e-5, "the eval loss is a mean over examples")
  }

  func testACheckpointSavedByTwoRanksResumesOnOneAndThreeRanksWithTheSameNextStepLoss() throws {
    try checkResumeOnOneAndThreeRanks(idTable: false)
  }

  func testAShardedIdTableCheckpointOfTwoRanksResumesOnOneAndThreeRanksWithTheSameNextStepLoss() throws {
    try checkResumeOnOneAndThreeRanks(idTable: true)
  }

  func checkResumeOnOneAndThreeRanks(idTable: Bool) throws {
    try requireMPI()
    let data = try writeData(ranks: [1, 2, 3], idTable: idTable)
    func cfg(_ n: Int, save: String) throws -> String {
      let path = try config("r\(n)-\(save).yaml", trainGlob: data[n]!, save: save, idTable: idTable)
      let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "train_log_every_n: 10", with: "train_log_every_n: 1")
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }
    let two = try MPILauncher.run(ranks: 2, program: tml, arguments: ["recap", "train", "--config", try cfg(2, save: "two"), "--steps", "11"], timeout: 300)
    XCTAssertEqual(two.status, 0, two.output)
    let reference = try logged("two", kind: "train")
    for n in [1, 3] {
      let save = "resumed\(n)"
      try FileManager.default.copyItem(at: dir.appendingPathComponent("two/checkpoints"), to: dir.appendingPathComponent("\(save)/checkpoints"))
      let args = ["recap", "train", "--config", try cfg(n, save: save), "--steps", "11", "--resume-from", "step_10"]
      let r = n == 1 ? try MPILauncher.runSingle(program: tml, arguments: args) : try MPILauncher.run(ranks: n, program: tml, arguments: args, timeout: 300)
      XCTAssertEqual(r.status, 0, r.output)
      XCTAssertTrue(r.output.contains("resumed at step 10"), r.output)
      let next = try logged(save, kind: "train")
      XCTAssertEqual(Set(next.keys), [11], "only the step after the checkpoint is trained")
      XCTAssertLessThanOrEqual(relative(next[11]?["loss"], reference[11]?["loss"]), 1e-5, "\(n) ranks: step 11 loss \(next[11]?["loss"] ?? .nan) vs \(reference[11]?["loss"] ?? .nan)")
      assertClose(try model(save, step: 11), try model("two", step: 11), tolerance: 1e-5)
    }
  }

  func testMoreRanksThanInputFilesIsAnErrorNamingTheKeyNotAHang() throws {
    try requireMPI()
    let data = try writeData(ranks: [1])
    try assertJobFails(config: try config("c.yaml", trainGlob: data[1]!, save: "run"),
                       mentioning: ["train_data.inputs '\(data[1]!)' has 1 file but the job has 2 ranks", "error: rank "])
  }

  func testARankWhoseFileHasNoRecordsStopsTheJobNamingTheRankAndFile() throws {
    try requireMPI()
    let data = try writeData(ranks: [2])
    let empty = dir.appendingPathComponent("ranks2/part-1.tfrecord").path
    try Data().write(to: URL(fileURLWithPath: empty))
    try assertJobFails(config: try config("c.yaml", trainGlob: data[2]!, save: "run"),
                       mentioning: ["error: rank 1 of 2: \(empty): contains no records"])
  }

  func testAGlobalBatchTheRanksDoNotDivideIsAnError() throws {
    try requireMPI()
    let data = try writeData(ranks: [3])
    let r = try MPILauncher.run(ranks: 3, program: tml, arguments: ["recap", "train", "--config", try config("c.yaml", trainGlob: data[3]!, save: "run"),
                                                                  ], environment: [:], timeout: 120)
    XCTAssertEqual(r.status, 0, "48 rows split over 3 ranks: \(r.output)")
    let bad = try config("bad.yaml", trainGlob: data[3]!, save: "bad")
    try String(contentsOfFile: bad, encoding: .utf8).replacingOccurrences(of: "global_batch_size: 48", with: "global_batch_size: 50")
      .write(toFile: bad, atomically: true, encoding: .utf8)
    try assertJobFails(config: bad, ranks: 3, mentioning: ["train_data.global_batch_size 50 is not divisible by the 3 ranks"])
  }

  func testARankThatMissesAFileOfTheOthersStopsTheJobNamingTheRankAndFile() throws {
    try requireMPI()
    let data = try writeData(ranks: [2])
    let full = dir.appendingPathComponent("ranks2").path
    // Rank 1's "machine" has only part-0 (a missing shard).
    let partial = dir.appendingPathComponent("partial")
    try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: full + "/part-0.tfrecord", toPath: partial.appendingPathComponent("part-0.tfrecord").path)
    let path = try config("env.yaml", trainGlob: "${TML_TEST_DATA}/part-*.tfrecord", save: "run")
    XCTAssertEqual(data[2], full + "/part-*.tfrecord")
    let r = try MPILauncher.run(environments: [["TML_TEST_DATA": full], ["TML_TEST_DATA": partial.path]], program: tml,
                                arguments: ["recap", "train", "--config", path], timeout: 120)
    XCTAssertNotEqual(r.status, 0)
    // (On one machine the two "copies" have different paths; on a cluster they have the same
    // and the message also names the first file rank 1 lacks.)
    XCTAssertTrue(r.output.contains("error: rank 1 of 2: train_data.inputs '\(partial.path)/part-*.tfrecord': rank 1 sees 1 file, rank 0 sees 2 files"), r.output)
    XCTAssertTrue(r.output.contains("Every rank needs the same input files"), r.output)
  }

  func testAMissingShardOfAnIdTableCheckpointIsAnErrorNamingTheFile() throws {
    try requireMPI()
    let data = try writeData(ranks: [2], idTable: true)
    let path = try config("c.yaml", trainGlob: data[2]!, save: "run", idTable: true)
    let first = try MPILauncher.run(ranks: 2, program: tml, arguments: ["recap", "train", "--config", path, "--steps", "10"], timeout: 300)
    XCTAssertEqual(first.status, 0, first.output)
    let shard = dir.appendingPathComponent("run/checkpoints/step_10/shard-1-of-2.safetensors")
    try FileManager.default.removeItem(at: shard)
    try assertJobFails(config: path, extra: ["--steps", "11"], mentioning: ["the shard of rank 1, \(shard.path), is missing or unreadable"])
  }

  func testIdsOutsideAShardedTableStopEveryRankNamingTheFeatureNotAHang() throws {
    try requireMPI()
    let data = try writeData(ranks: [2], idTable: true)
    let path = try config("c.yaml", trainGlob: data[2]!, save: "run", idTable: true)
    try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "num_embeddings: \(tableRows)", with: "num_embeddings: 20")
      .write(toFile: path, atomically: true, encoding: .utf8)
    try assertJobFails(config: path, mentioning: ["error: rank ", "id feature meta__author_id has id", "outside table meta__author_id's 20 rows"])
  }

  /// With `ignore_data_errors`, records skipped on any rank count in rank 0's log: rank 1's
  /// file has 2 unparseable records, and its skipped_records line is in metrics.jsonl.
  func testRecordsSkippedOnAnyRankAreLogged() throws {
    try requireMPI()
    let data = try writeData(ranks: [2])
    let file = dir.appendingPathComponent("ranks2/part-1.tfrecord").path
    let reader = try TFRecordReader(path: file)
    var records: [[UInt8]] = []
    while let r = try reader.next() { records.append(r) }
    for i in [7, 0] { records.insert([0x0A, 0x7F, 0x01], at: i) }
    let writer = try TFRecordWriter(path: file, compressed: false)
    for r in records { try writer.write(r) }
    try writer.close()
    let path = try config("c.yaml", trainGlob: data[2]!, save: "run")
    let text = try String(contentsOfFile: path, encoding: .utf8)
      .replacingOccurrences(of: "  global_batch_size: \(globalBatch)\n  examples_shuffle_buffer_size", with: "  global_batch_size: \(globalBatch)\n  ignore_data_errors: true\n  examples_shuffle_buffer_size")
    XCTAssertTrue(text.contains("ignore_data_errors: true"))
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    let r = try MPILauncher.run(ranks: 2, program: tml, arguments: ["recap", "train", "--config", path, "--steps", "10"], timeout: 300)
    XCTAssertEqual(r.status, 0, r.output)
    let lines = try String(contentsOf: dir.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
      .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    let train = try XCTUnwrap(lines.last { $0["kind"] as? String == "train" })
    XCTAssertEqual(train["data/skipped_records"] as? Double, 2, "rank 1's skipped records in rank 0's log")
    let skipped = try XCTUnwrap(lines.last { $0["kind"] as? String == "skipped_records" && $0["dataset"] as? String == "train" })
    XCTAssertEqual(skipped["file"] as? String, file)
    XCTAssertTrue((skipped["first_error"] as? String)?.contains("record 0") ?? false, "\(skipped)")
  }

  /// Ranks that see different SWIFTTML_OVERLAP_ALLREDUCE (a cluster where the variable was
  /// not passed with -x) follow rank 0 instead of mixing blocking and non-blocking
  /// all-reduces, which would hang.
  func testRanksThatDisagreeOnOverlapFollowRankZero() throws {
    try requireMPI()
    let data = try writeData(ranks: [2])
    let path = try config("c.yaml", trainGlob: data[2]!, save: "run")
    let r = try MPILauncher.run(environments: [["SWIFTTML_OVERLAP_ALLREDUCE": "1"], ["SWIFTTML_OVERLAP_ALLREDUCE": "0"]], program: tml,
                                arguments: ["recap", "train", "--config", path, "--steps", "5"], timeout: 120)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("gradient all-reduce started during backward"), r.output)
  }

  /// A rank killed mid-training (SIGKILL, as by the OOM killer) ends the whole job, with
  /// mpirun naming the rank, instead of leaving rank 0 waiting in a collective.
  func testARankKilledMidTrainingEndsTheJobNamingIt() throws {
    try requireMPI()
    let data = try writeData(ranks: [2])
    let path = try config("c.yaml", trainGlob: data[2]!, save: "run")
    let train = [tml, "recap", "train", "--config", path, "--steps", "100000"]
    let quoted = train.map { "'\($0)'" }.joined(separator: " ")
    let start = Date()
    let r = try MPILauncher.run(commands: [train, ["/bin/sh", "-c", "\(quoted) & p=$!; sleep 3; kill -9 $p; wait $p"]], timeout: 120)
    XCTAssertNotEqual(r.status, 0, r.output)
    XCTAssertLessThan(Date().timeIntervalSince(start), 60, "the job ended soon after the kill")
    XCTAssertTrue(r.output.contains("Process name: [[") && r.output.contains("],1]"), "mpirun names rank 1: \(r.output)")
    XCTAssertTrue(r.output.contains("137") || r.output.contains("signal 9"), "killed, not failed on its own: \(r.output)")
  }
}
