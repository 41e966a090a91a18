import Foundation
import XCTest
@testable import Recap
import TMLData
import TMLNN
import TMLTrain

/// End to end on a tiny copy of configs/recap/small.yaml: generate data, train, resume,
/// evaluate, predict and score.
final class RecapRunTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("recap-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  /// configs/recap/small.yaml with data paths and save dir under the temp directory, and
  /// `edits` (each must match).
  func tinyConfig(steps: Int, _ edits: [(String, String)] = []) throws -> String {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var text = try String(contentsOf: repo.appendingPathComponent("configs/recap/small.yaml"), encoding: .utf8)
    text = text.replacingOccurrences(of: "data/recap_small", with: dir.appendingPathComponent("data").path)
    text = text.replacingOccurrences(of: "save_dir: runs/recap_small", with: "save_dir: \(dir.appendingPathComponent("run").path)")
    text = text.replacingOccurrences(of: "num_train_steps: 1000", with: "num_train_steps: \(steps)")
    text = text.replacingOccurrences(of: "checkpoint_every_n: 250", with: "checkpoint_every_n: 20")
    text = text.replacingOccurrences(of: "train_log_every_n: 50", with: "train_log_every_n: 10")
    text = text.replacingOccurrences(of: "schema_path: small_segdense.json", with: "schema_path: \(repo.appendingPathComponent("configs/recap/small_segdense.json").path)")
    text = editedConfig(text, edits, name: "small.yaml")
    let path = dir.appendingPathComponent("small.yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func testExplicitDatetimeInputsGenerateTrainAndEvaluateFromHourlyFolders() throws {
    var text = try String(contentsOfFile: try tinyConfig(steps: 20), encoding: .utf8)
    let root = dir.appendingPathComponent("hourly").path
    text = text.replacingOccurrences(of: "  inputs: \(dir.appendingPathComponent("data").path)/train/part-*.tfrecord.gz", with: """
      explicit_datetime_inputs:
        data_root: \(root)
        end_datetime: 2023/03/31/23
        hours: 3
    """)
    XCTAssertTrue(text.contains("explicit_datetime_inputs"), "the train inputs line was replaced")
    let path = dir.appendingPathComponent("hourly.yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    let run = try RecapRun(configPath: path)
    let files = try run.generateData(examples: 900, files: 2)
    let hourly = files.filter { $0.hasPrefix(root) }.sorted()
    XCTAssertEqual(hourly.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path },
                   ["2023/03/31/21", "2023/03/31/22", "2023/03/31/23"].map { "\(root)/\($0)" })
    XCTAssertEqual(try run.trainData.inputFiles(), hourly)
    let results = try run.train(onEvent: { _ in })
    XCTAssertFalse(results.isEmpty, "validation ran after training")
    // A missing hour beyond the tolerance stops the run with the folder named.
    try FileManager.default.removeItem(atPath: "\(root)/2023/03/31/22")
    XCTAssertThrowsError(try run.trainData.inputFiles()) { XCTAssertTrue("\($0)".contains("\(root)/2023/03/31/22"), "\($0)") }
  }

  func testProjectConfigsLoadAndBuildTheirModels() throws {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for name in ["small", "production"] {
      let run = try RecapRun(configPath: repo.appendingPathComponent("configs/recap/\(name).yaml").path)
      XCTAssertEqual(run.spec.tasks.count, name == "small" ? 4 : 10, name)
      if name == "production" {
        XCTAssertEqual(run.spec.continuousFeatures, 2117)
        XCTAssertEqual(run.spec.binaryFeatures, 59)
        XCTAssertEqual(run.spec.userEmbeddingDim, 200)
      }
    }
  }

  func testTrainResumeEvaluatePredictAndScore() throws {
    let run = try RecapRun(configPath: try tinyConfig(steps: 40))
    let files = try run.generateData(examples: 2_000, files: 2)
    XCTAssertEqual(files.count, 4)
    var logged: [Int: Double] = [:]
    try run.train(onEvent: { if case .logged(let step, let v) = $0 { logged[step] = v["loss"] } })
    XCTAssertEqual(logged.keys.sorted(), [10, 20, 30, 40])
    XCTAssertLessThan(logged[40]!, logged[10]!, "loss decreases")
    let checkpoints = CheckpointManager(saveDir: run.saveDir).steps().map(\.step)
    XCTAssertEqual(checkpoints, [20, 40], "checkpoint_max_to_keep 2")

    // The same command with more steps resumes at 40.
    let more = try RecapRun(configPath: try tinyConfig(steps: 60))
    var resumedAt: Int? = nil
    let results = try more.train(onEvent: { if case .resumed(let step, _) = $0 { resumedAt = step } })
    XCTAssertEqual(resumedAt, 40)
    XCTAssertEqual(CheckpointManager(saveDir: more.saveDir).steps().last?.step, 60)
    let auroc = try XCTUnwrap(results["validation"]?.metrics["recap.engagement.is_favorited/auroc"])
    XCTAssertGreaterThan(auroc, 0.6, "planted signal is learned")
    let metricsLog = try String(contentsOf: more.saveDir.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
    XCTAssertTrue(metricsLog.contains("\"kind\":\"eval/validation\""))
    XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: more.saveDir.appendingPathComponent("tensorboard/train").path).isEmpty)

    let (model, step) = try more.loadModel(checkpoint: more.saveDir)
    XCTAssertEqual(step, 60)
    let output = dir.appendingPathComponent("preds.tsv").path
    let n = try more.predict(model: model, inputGlob: dir.appendingPathComponent("data/validation/part-0.tfrecord.gz").path, output: output)
    XCTAssertEqual(n.rows, 200)
    XCTAssertEqual(n.rowsNotWritten, 0)
    let table = try PredictionTable(path: output)
    XCTAssertEqual(table.rows.count, 200)
    XCTAssertEqual(table.tasks.count, 4)
    let scored = try table.scored(by: EngagementScore())
    XCTAssertGreaterThanOrEqual(scored[0].score, scored[199].score)
    let row = table.rows[0]
    let expected = 0.5 * row.calibrated["recap.engagement.is_favorited"]! + 1.0 * row.calibrated["recap.engagement.is_retweeted"]!
      + 13.5 * row.calibrated["recap.engagement.is_replied"]! - 74.0 * row.calibrated["recap.engagement.is_negative_feedback_v2"]!
    XCTAssertEqual(EngagementScore().score(row.calibrated).score, expected, accuracy: 1e-9)
  }

  /// Rewrites the TFRecord file at `path` (gzip when `compressed`) with an unparseable
  /// record inserted before each index in `garbageAt` (indices of the new file).
  func insertGarbage(_ path: String, at garbageAt: Set<Int>, compressed: Bool, to out: String? = nil) throws {
    let reader = try TFRecordReader(path: path)
    var records: [[UInt8]] = []
    while let r = try reader.next() { records.append(r) }
    for i in garbageAt.sorted() { records.insert([0x0A, 0x7F, 0x01], at: i) }
    let w = try TFRecordWriter(path: out ?? path, compressed: compressed)
    for r in records { try w.write(r) }
    try w.close()
  }

  func metricsLines(_ run: RecapRun) throws -> [[String: Any]] {
    try String(contentsOf: run.saveDir.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
      .split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
  }

  func testIgnoreDataErrorsCountsSkippedRecordsInMetricsAndPredict() throws {
    var text = try String(contentsOfFile: try tinyConfig(steps: 10), encoding: .utf8)
    text = text.replacingOccurrences(of: "  global_batch_size: 128\n  examples_shuffle_buffer_size", with: "  global_batch_size: 128\n  ignore_data_errors: true\n  examples_shuffle_buffer_size")
    text = text.replacingOccurrences(of: "    global_batch_size: 128\n    seg_dense_schema", with: "    global_batch_size: 128\n    ignore_data_errors: true\n    seg_dense_schema")
    XCTAssertEqual(text.components(separatedBy: "ignore_data_errors: true").count, 3, "both datasets ignore data errors")
    let path = dir.appendingPathComponent("ignore.yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    let run = try RecapRun(configPath: path)
    try run.generateData(examples: 1_000, files: 2)
    let data = dir.appendingPathComponent("data").path
    try insertGarbage("\(data)/train/part-1.tfrecord.gz", at: [0, 7, 50], compressed: true)
    try insertGarbage("\(data)/validation/part-1.tfrecord.gz", at: [3, 4, 90], compressed: true)

    var notices: [SkippedRecords.File] = []
    try run.train(onEvent: { if case .skippedRecords(_, let f) = $0 { notices.append(f) } })
    let lines = try metricsLines(run)
    // Train lines carry the total so far; each growth has a per-file line (the train data
    // repeats, so the count grows by 3 per pass over part-1).
    let train = try XCTUnwrap(lines.last { $0["kind"] as? String == "train" })
    let trainSkipped = try XCTUnwrap(train["data/skipped_records"] as? Double)
    XCTAssertGreaterThanOrEqual(trainSkipped, 3)
    let trainFiles = lines.filter { $0["kind"] as? String == "skipped_records" && $0["dataset"] as? String == "train" }
    XCTAssertEqual(Set(trainFiles.compactMap { $0["file"] as? String }), ["\(data)/train/part-1.tfrecord.gz"])
    XCTAssertEqual(trainFiles.last?["records"] as? Double, trainSkipped)
    XCTAssertTrue((trainFiles.last?["first_error"] as? String)?.contains("part-1.tfrecord.gz: record 0") ?? false, "\(trainFiles)")
    XCTAssertEqual(notices.last.map { Double($0.count) }, trainSkipped, "the CLI hears of the same counts")
    // Evaluation reads the validation files once: exactly the 3 bad records, first at record 3.
    let eval = try XCTUnwrap(lines.last { $0["kind"] as? String == "eval/validation" })
    XCTAssertEqual(eval["data/skipped_records"] as? Double, 3)
    let evalFile = try XCTUnwrap(lines.last { $0["kind"] as? String == "skipped_records" && $0["dataset"] as? String == "validation" })
    XCTAssertEqual(evalFile["file"] as? String, "\(data)/validation/part-1.tfrecord.gz")
    XCTAssertEqual(evalFile["records"] as? Double, 3)
    XCTAssertTrue((evalFile["first_error"] as? String)?.contains("record 3") ?? false, "\(evalFile)")

    // Predict on a plain file: validation part-0 (100 examples) with an unparseable record
    // inserted at 5 and the records at 10 and 20 damaged (data CRC): 98 rows.
    let input = dir.appendingPathComponent("bad.tfrecord").path
    try insertGarbage("\(data)/validation/part-0.tfrecord.gz", at: [5], compressed: false, to: input)
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: input)))
    var offset = 0
    for r in 0..<21 {
      let n = bytes[offset..<(offset + 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
      if r == 10 || r == 20 { bytes[offset + 12] ^= 0x01 }
      offset += 16 + n
    }
    try Data(bytes).write(to: URL(fileURLWithPath: input))
    let output = dir.appendingPathComponent("preds.tsv").path
    let (model, _) = try run.loadModel(checkpoint: run.saveDir)
    let summary = try run.predict(model: model, inputGlob: input, output: output)
    XCTAssertEqual(summary.rows, 98)
    XCTAssertEqual(summary.rowsNotWritten, 3)
    XCTAssertEqual(summary.skipped.files.map(\.path), [input])
    XCTAssertTrue(summary.skipped[input]?.firstError.contains("record 5") ?? false, "\(summary.skipped)")
    XCTAssertEqual(try PredictionTable(path: output).rows.count, 98)
  }

  func testScoreWeightsFileOverridesDefaults() throws {
    let path = dir.appendingPathComponent("w.yaml").path
    try "recap.engagement.is_favorited: 2.0  # more likes\nmy.head: 1\n".write(toFile: path, atomically: true, encoding: .utf8)
    let s = try EngagementScore(overridesFrom: path)
    XCTAssertEqual(s.weights.first { $0.head == "recap.engagement.is_favorited" }?.weight, 2.0)
    XCTAssertEqual(s.weights.first { $0.head == "my.head" }?.weight, 1.0)
    XCTAssertEqual(s.weights.first { $0.head == "recap.engagement.is_report_tweet_clicked" }?.weight, -369.0)
    try "not a weight line\n".write(toFile: path, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try EngagementScore(overridesFrom: path)) { XCTAssertTrue("\($0)".contains(":1:"), "\($0)") }
  }
}
