import Foundation
import TMLData
import TMLONNX
import XCTest

/// `NpzWriter` writes a zip of stored NPY members that NumPy reads: walked here record by
/// record (local headers, central directory, end record), each member's CRC-32 checked
/// with an independent bitwise implementation and its NPY data parsed by `NpyArray`.
final class NpzWriterTests: XCTestCase {
  /// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bit by bit.
  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      c ^= UInt32(b)
      for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
    }
    return ~c
  }

  func u16(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 }
  func u32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * $1) } }

  func testMembersParseAsNPYWithTheirCRCs() throws {
    XCTAssertEqual(Self.crc32(Array("123456789".utf8)), 0xCBF4_3926, "the CRC-32 check value")
    var npz = NpzWriter()
    let floats: [Float] = [1.5, -2, .infinity, 0, 3e-8, 7]
    npz.add("continuous", floats: floats, shape: [2, 3])
    npz.add("meta__user_id", int64s: [42, -7, 1 << 40], shape: [3])
    let bytes = [UInt8](try npz.encoded())

    var at = 0
    var members: [String: NpyArray] = [:]
    while u32(bytes, at) == 0x0403_4b50 {
      XCTAssertEqual(u16(bytes, at + 8), 0, "stored, not compressed")
      let crc = u32(bytes, at + 14), size = Int(u32(bytes, at + 18))
      XCTAssertEqual(Int(u32(bytes, at + 22)), size, "stored: compressed size = size")
      let nameLength = u16(bytes, at + 26), extra = u16(bytes, at + 28)
      let name = String(decoding: bytes[(at + 30)..<(at + 30 + nameLength)], as: UTF8.self)
      let start = at + 30 + nameLength + extra
      let data = Array(bytes[start..<(start + size)])
      XCTAssertEqual(Self.crc32(data), crc, name)
      XCTAssertEqual((10 + u16(data, 8)) % 64, 0, "\(name): NPY data starts at a multiple of 64")
      members[name] = try NpyArray(data: Data(data), source: name)
      at = start + size
    }
    XCTAssertEqual(Set(members.keys), ["continuous.npy", "meta__user_id.npy"])
    XCTAssertEqual(members["continuous.npy"]?.shape, [2, 3])
    XCTAssertEqual(members["continuous.npy"]?.descr, "<f4")
    XCTAssertEqual(members["continuous.npy"]?.values, floats.map(Double.init))
    XCTAssertEqual(members["meta__user_id.npy"]?.shape, [3])
    XCTAssertEqual(members["meta__user_id.npy"]?.values, [42, -7, Double(1 << 40)])
    // Central directory: one entry per member, then the end record pointing at it.
    let centralStart = at
    var entries = 0
    while u32(bytes, at) == 0x0201_4b50 {
      entries += 1
      at += 46 + u16(bytes, at + 28) + u16(bytes, at + 30) + u16(bytes, at + 32)
    }
    XCTAssertEqual(entries, 2)
    XCTAssertEqual(u32(bytes, at), 0x0605_4b50)
    XCTAssertEqual(u16(bytes, at + 10), 2)
    XCTAssertEqual(Int(u32(bytes, at + 16)), centralStart)
    XCTAssertEqual(at + 22, bytes.count)
  }
}
