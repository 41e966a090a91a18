import Foundation
import SwiftProtobuf
import TMLData
import TMLIO
import XCTest
@testable import TMLTrain

/// `metrics.jsonl` and TensorBoard event files: written through, and a full disk is a
/// `FileError` naming the file (not a trap).
final class LogWriteTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("logs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  /// `dir/name` as a link to /dev/full, where every write fails with ENOSPC.
  func fullDevice(_ name: String) throws -> String {
    #if !os(Linux)
    guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full on this system") }
    #endif
    let path = dir.appendingPathComponent(name).path
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/full")
    return path
  }

  func testMetricsLogOnAFullDiskThrowsNoSpaceLeft() throws {
    let path = try fullDevice("metrics.jsonl")
    let log = try MetricsLog(url: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try log.append(kind: "train", step: 1, ["loss": 0.5])) { error in
      XCTAssertEqual("\(error)", "\(path): no space left on device")
    }
  }

  func testMetricsLogAppendsOneLinePerCallAfterEarlierRuns() throws {
    let url = dir.appendingPathComponent("run/metrics.jsonl")
    try MetricsLog(url: url).append(kind: "train", step: 1, ["loss": 0.5])
    let second = try MetricsLog(url: url)
    try second.append(kind: "eval", step: 2, ["auc": .nan])
    try second.close()
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(lines.count, 2)
    XCTAssertTrue(lines[0].hasPrefix("{\"kind\":\"train\",\"step\":1,"), String(lines[0]))
    XCTAssertTrue(lines[1].hasSuffix("\"auc\":null}"), String(lines[1]))
  }

  func testTensorBoardWriterOnAFullDiskThrowsNoSpaceLeft() throws {
    let path = try fullDevice("events.out.tfevents.1.host")
    // The first event (file_version) is written when the file is opened.
    XCTAssertThrowsError(try TensorBoardWriter(file: path)) { error in
      XCTAssertEqual("\(error)", "\(path): no space left on device")
    }
  }

  func testTensorBoardEventsAreTFRecordsOfOneEventPerStep() throws {
    let board = try TensorBoardWriter(directory: dir.appendingPathComponent("tensorboard/train"))
    try board.add(["loss": 0.25], step: 3)
    try board.close()
    let reader = try TFRecordReader(path: board.path)
    var events: [Tensorboard_Event] = []
    while let bytes = try reader.next() { events.append(try Tensorboard_Event(serializedBytes: bytes)) }
    XCTAssertEqual(events.map(\.fileVersion), ["brain.Event:2", ""])
    XCTAssertEqual(events[1].step, 3)
    XCTAssertEqual(events[1].summary.value.map(\.tag), ["loss"])
    XCTAssertEqual(events[1].summary.value.first?.simpleValue, 0.25)
  }
}
