import Foundation
import TMLIO
import XCTest

/// Foundation's file errors become one line `<path>: <reason>` — never
/// "Error Domain=NSCocoaErrorDomain Code=…".
final class FileErrorTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("fileerror-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  /// The error `body` throws, as `FileError.message` prints it.
  func message(_ body: () throws -> Void) -> String {
    do { try body() } catch { return FileError.message(error) }
    XCTFail("no error thrown")
    return ""
  }

  func testReadingAMissingFileNamesThePathAndNoSuchFile() {
    let path = dir.appendingPathComponent("config.yaml").path
    let text = message { _ = try String(contentsOfFile: path, encoding: .utf8) }
    XCTAssertEqual(text, "\(path): no such file or directory")
  }

  func testReadingADirectoryAsAFileSaysIsADirectory() {
    let text = message { _ = try Data(contentsOf: dir) }
    XCTAssertEqual(text, "\(dir.path): is a directory")
    XCTAssertFalse(text.contains("NSCocoaErrorDomain"))
  }

  func testAFoundationWriteToAFullDeviceSaysNoSpaceLeft() throws {
    let path = try FullDisk.link(in: dir, name: "out.json")
    let text = message { try Data("{}".utf8).write(to: URL(fileURLWithPath: path)) }
    XCTAssertEqual(text, "\(path): no space left on device")
  }

  func testCreatingADirectoryUnderAFileSaysNotADirectory() throws {
    let file = dir.appendingPathComponent("file")
    try Data().write(to: file)
    let target = file.appendingPathComponent("sub").path
    let text = message { try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true) }
    XCTAssertEqual(text, "\(target): not a directory")
  }

  func testAPOSIXErrorUsesTheGivenPath() {
    XCTAssertEqual(FileError.message(POSIXError(.EACCES), path: "/x"), "/x: permission denied")
    XCTAssertEqual(FileError.reason(of: POSIXError(.EACCES)), "permission denied")
  }

  func testOtherErrorsPassThroughUnchanged() {
    struct Custom: Error, CustomStringConvertible { var description: String { "custom problem" } }
    XCTAssertTrue(FileError.from(Custom()) is Custom)
    XCTAssertEqual(FileError.message(Custom()), "custom problem")
    XCTAssertNil(FileError(Custom(), path: "/x"))
  }

  func testErrnoReasonsAreLowerCaseStrerror() {
    XCTAssertEqual(FileError(path: "out.tsv", errno: ENOSPC).description, "out.tsv: no space left on device")
    XCTAssertEqual(FileError(path: "d", errno: EISDIR).reason, "is a directory")
  }
}
