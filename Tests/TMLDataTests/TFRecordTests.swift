import Foundation
import XCTest
@testable import TMLData

final class TFRecordTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("tfrecord-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func sampleRecords() -> [[UInt8]] {
    var records: [[UInt8]] = [[], [0], Array("hello".utf8)]
    var x: UInt32 = 12345
    for size in [100, 4097, 70_000, 1_100_000] {  // the last exceeds the 1 MiB read buffer
      records.append((0..<size).map { _ in x = x &* 1_103_515_245 &+ 12345; return UInt8(truncatingIfNeeded: x >> 16) })
    }
    return records
  }

  func write(_ records: [[UInt8]], to name: String, compressed: Bool) throws -> String {
    let path = dir.appendingPathComponent(name).path
    let w = try TFRecordWriter(path: path, compressed: compressed)
    for r in records { try w.write(r) }
    try w.close()
    return path
  }

  func readAll(_ path: String, ignoreDataErrors: Bool = false) throws -> ([[UInt8]], TFRecordReader) {
    let r = try TFRecordReader(path: path, ignoreDataErrors: ignoreDataErrors)
    var out: [[UInt8]] = []
    while let rec = try r.next() { out.append(rec) }
    return (out, r)
  }

  func testPlainFileRoundTripsEveryRecordExactly() throws {
    let records = sampleRecords()
    let (back, reader) = try readAll(try write(records, to: "a.tfrecord", compressed: false))
    XCTAssertEqual(back, records)
    XCTAssertEqual(reader.recordsRead, records.count)
  }

  func testGzipFileRoundTripsAndIsDetectedByMagicBytes() throws {
    let records = sampleRecords()
    let path = try write(records, to: "b.tfrecord", compressed: true)  // no .gz suffix: detected by magic
    XCTAssertTrue(FileByteStream.isGzip(path: path))
    XCTAssertEqual(try readAll(path).0, records)
  }

  func testFlippedDataByteIsAnErrorNamingFileAndOffset() throws {
    let path = try write([Array("first".utf8), Array("second".utf8)], to: "c.tfrecord", compressed: false)
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let secondOffset = 12 + 5 + 4
    bytes[secondOffset + 12 + 2] ^= 0xFF
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try readAll(path)) { e in
      let m = "\(e)"
      XCTAssertTrue(m.contains(path) && m.contains("byte offset \(secondOffset)") && m.contains("CRC"), m)
    }
    let (back, reader) = try readAll(path, ignoreDataErrors: true)
    XCTAssertEqual(back, [Array("first".utf8)])
    XCTAssertEqual(reader.skippedRecords, 1)
  }

  func testFlippedLengthByteIsAnError() throws {
    let path = try write([Array("first".utf8), Array("second".utf8)], to: "d.tfrecord", compressed: false)
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    bytes[0] ^= 0x01
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try readAll(path)) { e in
      XCTAssertTrue("\(e)".contains("corrupted record length at byte offset 0"), "\(e)")
    }
    let (back, reader) = try readAll(path, ignoreDataErrors: true)
    XCTAssertEqual(back, [])
    XCTAssertEqual(reader.skippedRecords, 1)
  }

  func testTruncatedFileIsAnErrorOrCountedWhenIgnored() throws {
    let path = try write([Array("first".utf8), Array(repeating: 7, count: 50)], to: "e.tfrecord", compressed: false)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try readAll(path)) { e in XCTAssertTrue("\(e)".contains("truncated record at byte offset 21"), "\(e)") }
    let (back, reader) = try readAll(path, ignoreDataErrors: true)
    XCTAssertEqual(back.count, 1)
    XCTAssertEqual(reader.skippedRecords, 1)
  }

  func testGarbageGzipIsAnErrorNotATrap() throws {
    let path = dir.appendingPathComponent("f.tfrecord.gz").path
    try Data([0x1F, 0x8B, 0x08, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x01, 0x02, 0x03, 0x04]).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try readAll(path)) { e in XCTAssertTrue("\(e)".contains(path), "\(e)") }
  }

  func testTruncatedGzipIsAnError() throws {
    let path = try write(sampleRecords(), to: "g.tfrecord.gz", compressed: true)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try readAll(path)) { e in XCTAssertTrue("\(e)".contains(path), "\(e)") }
  }

  func testMissingFileNamesThePath() {
    XCTAssertThrowsError(try TFRecordReader(path: "/nonexistent/x.tfrecord")) { e in
      XCTAssertTrue("\(e)".contains("/nonexistent/x.tfrecord"), "\(e)")
    }
  }
}
