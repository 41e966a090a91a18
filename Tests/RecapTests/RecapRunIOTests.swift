import Foundation
import TMLIO
import TMLTrain
import XCTest
@testable import Recap

/// `RecapRun` on a full disk and with unreadable inputs (one-line errors naming the path),
/// and the progress it reports while evaluating and predicting.
extension RecapRunTests {
  /// `path` as a link to /dev/full, where every write fails with ENOSPC (a link, so
  /// nothing can replace the device itself).
  func linkToFullDevice(at path: String) throws {
    #if !os(Linux)
    guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full on this system") }
    #endif
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/full")
  }

  /// The tiny config with `num_eval_steps` replaced.
  func tinyConfig(evalSteps: Int) throws -> String {
    let path = try tinyConfig(steps: 10)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    XCTAssertTrue(text.contains("num_eval_steps: 20"))
    try text.replacingOccurrences(of: "num_eval_steps: 20", with: "num_eval_steps: \(evalSteps)").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func testGenerateDataOntoAFullDiskThrowsNoSpaceLeftNamingTheFile() throws {
    let run = try RecapRun(configPath: try tinyConfig(steps: 10))
    let out = dir.appendingPathComponent("generated")
    let file = out.appendingPathComponent("train/part-0.tfrecord.gz").path
    try linkToFullDevice(at: file)
    XCTAssertThrowsError(try run.generateData(examples: 200, outDirectory: out)) { error in
      XCTAssertEqual("\(error)", "\(file): no space left on device")
    }
  }

  func testGenerateDataIntoAFullTmpfsThrowsNoSpaceLeft() throws {
    #if os(Linux)
    guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
    let mount = dir.appendingPathComponent("tmpfs")
    try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/mount")
    p.arguments = ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mount.path]
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw XCTSkip("mount -t tmpfs is not permitted here") }
    defer {
      let u = Process()
      u.executableURL = URL(fileURLWithPath: "/bin/umount")
      u.arguments = [mount.path]
      try? u.run()
      u.waitUntilExit()
    }
    let run = try RecapRun(configPath: try tinyConfig(steps: 10))
    XCTAssertThrowsError(try run.generateData(examples: 5_000, outDirectory: mount)) { error in
      let text = "\(error)"
      XCTAssertTrue(text.hasPrefix(mount.path + "/") && text.hasSuffix(".tfrecord.gz: no space left on device"), text)
    }
    #else
    throw XCTSkip("tmpfs mounts are Linux only")
    #endif
  }

  func testPredictOntoAFullDiskThrowsNoSpaceLeftNamingTheOutput() throws {
    let run = try RecapRun(configPath: try tinyConfig(steps: 10))
    try run.generateData(examples: 300, files: 1)
    let output = dir.appendingPathComponent("preds.tsv").path
    try linkToFullDevice(at: output)
    let input = dir.appendingPathComponent("data/validation/part-0.tfrecord.gz").path
    XCTAssertThrowsError(try run.predict(model: try run.makeModel(), inputGlob: input, output: output)) { error in
      XCTAssertEqual("\(error)", "\(output): no space left on device")
    }
  }

  func testAMissingConfigIsOneLineNamingThePath() {
    let path = dir.appendingPathComponent("absent.yaml").path
    XCTAssertThrowsError(try RecapRun(configPath: path)) { error in
      let text = "\(error)"
      XCTAssertTrue(text.hasPrefix("\(path): cannot read the config file (no such file or directory)."), text)
      XCTAssertFalse(text.contains("\n"), text)
      XCTAssertFalse(text.contains("NSCocoaErrorDomain"), text)
    }
  }

  func testEvaluationReportsBatchesUpToTheTotal() throws {
    let run = try RecapRun(configPath: try tinyConfig(evalSteps: 20))
    try run.generateData(examples: 2_000, files: 1)  // validation: 400 examples, 4 batches of ≤ 128
    var reports: [WorkProgress] = []
    _ = try run.evaluate(model: try run.makeModel(), step: 0, onProgress: { reports.append($0) }) { _, _ in }
    XCTAssertEqual(reports.map(\.label), Array(repeating: "eval validation", count: 5))
    XCTAssertEqual(reports.map(\.unit), Array(repeating: .batches, count: 5))
    XCTAssertEqual(reports.map(\.done), [1, 2, 3, 4, 4])
    XCTAssertEqual(reports.map(\.total), [20, 20, 20, 20, 4], "the data ends before num_eval_steps: the last report ends at what was done")
    XCTAssertEqual(reports.filter(\.isFinished).count, 1, "only the last report finishes")
  }

  func testEvaluationOfAllTheDataReportsInputBytesUpToTheFileSize() throws {
    let run = try RecapRun(configPath: try tinyConfig(evalSteps: -1))
    try run.generateData(examples: 1_000, files: 1)
    let file = dir.appendingPathComponent("data/validation/part-0.tfrecord.gz").path
    let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
    var reports: [WorkProgress] = []
    _ = try run.evaluate(model: try run.makeModel(), step: 0, onProgress: { reports.append($0) }) { _, _ in }
    XCTAssertEqual(reports.count, 3, "one per batch (200 examples: 2) and the end")
    XCTAssertTrue(reports.allSatisfy { $0.unit == .bytes && $0.total == size })
    XCTAssertEqual(reports.map(\.done), reports.map(\.done).sorted())
    XCTAssertEqual(reports.last?.done, size)
    XCTAssertEqual(reports.filter(\.isFinished).count, 1)
  }

  func testPredictReportsInputBytesUpToTheFileSize() throws {
    let run = try RecapRun(configPath: try tinyConfig(steps: 10))
    try run.generateData(examples: 1_000, files: 1)
    let input = dir.appendingPathComponent("data/validation/part-0.tfrecord.gz").path
    let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: input)[.size] as? Int)
    var reports: [WorkProgress] = []
    let n = try run.predict(model: try run.makeModel(), inputGlob: input, output: dir.appendingPathComponent("p.tsv").path) { reports.append($0) }
    XCTAssertEqual(n.rows, 200)
    XCTAssertEqual(reports.map(\.label), ["predict", "predict", "predict"], "two batches and the end")
    XCTAssertEqual(reports.map(\.done), reports.map(\.done).sorted())
    XCTAssertEqual(reports.last, WorkProgress("predict", done: size, total: size, unit: .bytes))
  }

  /// `tml recap generate-data` onto a full disk: one line `Error: <file>: no space left on
  /// device` and exit status 1 (was a trap, exit 132). Skipped when `tml` is not built.
  func testTmlOnAFullDiskPrintsOneErrorLineAndExits1() throws {
    #if os(macOS)
    let products = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL.deletingLastPathComponent() ?? Bundle.main.bundleURL
    #else
    let products = Bundle.main.bundleURL
    #endif
    let tml = products.appendingPathComponent("tml").path
    guard FileManager.default.isExecutableFile(atPath: tml) else { throw XCTSkip("\(tml) is not built") }
    let out = dir.appendingPathComponent("generated")
    let file = out.appendingPathComponent("train/part-0.tfrecord.gz").path
    try linkToFullDevice(at: file)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tml)
    p.arguments = ["recap", "generate-data", "--config", try tinyConfig(steps: 10), "--examples", "200", "--out", out.path]
    let stderr = Pipe()
    p.standardError = stderr
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 1, text)
    let lines = text.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.filter { $0.hasPrefix("Error:") }, ["Error: \(file): no space left on device"], text)
    XCTAssertEqual(lines.last, "Error: \(file): no space left on device")
  }
}
