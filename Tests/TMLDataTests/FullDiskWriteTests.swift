import Foundation
import TMLIO
import XCTest
@testable import TMLData

/// The data writers on a full disk: a `FileError` `<path>: no space left on device`, not a
/// trap (the old `FileHandle.write` stopped the process with exit 132).
final class FullDiskWriteTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws { dir = try RecapTestSupport.makeTemporaryDirectory("fulldisk") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  /// `dir/name` as a link to /dev/full, where every write fails with ENOSPC (a link, so
  /// nothing can replace the device itself).
  func fullDevice(_ name: String) throws -> String {
    #if !os(Linux)
    guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full on this system") }
    #endif
    let path = dir.appendingPathComponent(name).path
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/full")
    return path
  }

  func assertNoSpace(_ path: String, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
      XCTAssertEqual("\(error)", "\(path): no space left on device", file: file, line: line)
    }
  }

  func testGzipTFRecordWriterOnAFullDiskThrowsNoSpaceLeft() throws {
    let path = try fullDevice("part-0.tfrecord.gz")
    let w = try TFRecordWriter(path: path, compressed: true)
    // deflate keeps small input in memory; the bytes reach the file at close at the latest.
    assertNoSpace(path) {
      for i in 0..<100 { try w.write([UInt8](repeating: UInt8(i), count: 100)) }
      try w.close()
    }
  }

  func testPlainTFRecordWriterOnAFullDiskThrowsNoSpaceLeft() throws {
    let path = try fullDevice("part-0.tfrecord")
    let w = try TFRecordWriter(path: path, compressed: false)
    assertNoSpace(path) { try w.write([1, 2, 3]) }
    XCTAssertEqual(w.recordsWritten, 0, "a record that failed is not counted")
  }

  func testParquetWriterOnAFullDiskThrowsNoSpaceLeft() throws {
    let path = try fullDevice("edges.parquet")
    assertNoSpace(path) { try ParquetWriter.write(path: path, columns: [("lhs", .int64([1, 2, 3]))]) }
  }

  func testTFRecordWriterInAMissingDirectoryNamesThePath() {
    let path = dir.appendingPathComponent("absent/part-0.tfrecord").path
    XCTAssertThrowsError(try TFRecordWriter(path: path, compressed: false)) { error in
      XCTAssertEqual("\(error)", "\(path): cannot open for writing (no such file or directory)")
    }
  }
}
