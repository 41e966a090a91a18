import Foundation
import TMLIO
import XCTest

/// `FileWriter`: every failed write, open or close is a `FileError` naming the path and
/// the reason; nothing traps.
final class FileWriterTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("filewriter-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func testWriteToAFullDeviceThrowsNoSpaceLeftNamingThePath() throws {
    let path = try FullDisk.link(in: dir, name: "out.tsv")
    let out = try FileWriter(path: path)
    XCTAssertThrowsError(try out.write("id\tscore\n")) { error in
      XCTAssertEqual("\(error)", "\(path): no space left on device")
      XCTAssertEqual((error as? FileError)?.code, ENOSPC)
    }
  }

  func testFillingATmpfsThrowsNoSpaceLeftAfterTheBytesThatFit() throws {
    let mount = dir.appendingPathComponent("tmpfs")
    try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
    try FullDisk.mountTmpfs(on: mount)
    defer { FullDisk.unmount(mount) }
    let path = mount.appendingPathComponent("big.bin").path
    let out = try FileWriter(path: path)
    let block = [UInt8](repeating: 7, count: 16 << 10)
    XCTAssertThrowsError(try { for _ in 0..<16 { try out.write(block) } }()) { error in
      XCTAssertEqual("\(error)", "\(path): no space left on device")
    }
    XCTAssertGreaterThan(out.bytesWritten, 0, "the bytes that fit are written (a short write is continued, then fails)")
    XCTAssertLessThanOrEqual(out.bytesWritten, 64 << 10)
  }

  func testAppendModeWritesAfterTheExistingContents() throws {
    let path = dir.appendingPathComponent("log.jsonl").path
    try FileWriter.write("a\n", toFile: path)
    let log = try FileWriter(path: path, mode: .append)
    try log.write("b\n")
    try log.close()
    XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "a\nb\n")
    try FileWriter.write("c\n", toFile: path)
    XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "c\n", "truncate mode replaces the contents")
  }

  func testOpeningInAMissingDirectoryNamesThePathAndTheReason() {
    let path = dir.appendingPathComponent("missing/out.tsv").path
    XCTAssertThrowsError(try FileWriter(path: path)) { error in
      XCTAssertEqual("\(error)", "\(path): cannot open for writing (no such file or directory)")
    }
  }

  func testWritingAfterCloseThrowsAndASecondCloseDoesNothing() throws {
    let out = try FileWriter(path: dir.appendingPathComponent("x").path)
    try out.write([1, 2, 3])
    try out.synchronize()
    try out.close()
    XCTAssertNoThrow(try out.close())
    XCTAssertThrowsError(try out.write([4]))
    XCTAssertEqual(out.bytesWritten, 3)
  }
}
