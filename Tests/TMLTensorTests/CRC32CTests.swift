import XCTest
@testable import TMLTensor

/// CRC-32C, the checksum of TFRecord framing and of checkpoint files.
final class CRC32CTests: XCTestCase {
  func testCRC32CMatchesTheStandardCheckValue() {
    XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
    XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
    // Slicing-by-8 and bytewise paths agree at every length around the 8-byte boundary.
    let bytes = (0..<40).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
    for n in 0...bytes.count {
      var crc: UInt32 = 0xFFFF_FFFF
      for b in bytes[0..<n] { crc = CRC32C.tables[0][Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
      XCTAssertEqual(CRC32C.checksum(bytes[0..<n]), crc ^ 0xFFFF_FFFF, "length \(n)")
    }
  }
}
