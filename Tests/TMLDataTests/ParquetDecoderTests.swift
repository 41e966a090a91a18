import Foundation
import XCTest
@testable import TMLData

/// Builds Thrift Compact Protocol bytes by hand for the decoder tests.
struct ThriftCompactTestWriter {
  var bytes: [UInt8] = []
  private var lastIds: [Int16] = [0]

  mutating func varint(_ v: UInt64) {
    var v = v
    while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
    bytes.append(UInt8(v))
  }
  mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

  /// A field header; uses the long form when the id delta is outside 1...15.
  mutating func field(_ id: Int16, _ type: UInt8) {
    let delta = Int(id) - Int(lastIds[lastIds.count - 1])
    if delta > 0 && delta <= 15 { bytes.append(UInt8(delta) << 4 | type) } else { bytes.append(type); zigzag(Int64(id)) }
    lastIds[lastIds.count - 1] = id
  }
  mutating func i32(_ id: Int16, _ v: Int32) { field(id, 5); zigzag(Int64(v)) }
  mutating func i64(_ id: Int16, _ v: Int64) { field(id, 6); zigzag(v) }
  mutating func binary(_ id: Int16, _ s: String) { field(id, 8); varint(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
  mutating func bool(_ id: Int16, _ v: Bool) { field(id, v ? 1 : 2) }
  mutating func beginStruct(_ id: Int16) { field(id, 12); lastIds.append(0) }
  mutating func endStruct() { bytes.append(0); lastIds.removeLast() }
  mutating func stop() { bytes.append(0) }
}

final class ParquetDecoderTests: XCTestCase {
  /// A PageHeader with every kind of unknown field mixed in must decode its known fields.
  func testThriftSkipsUnknownFieldsOfEveryType() throws {
    var w = ThriftCompactTestWriter()
    w.i32(1, 0)  // type DATA_PAGE
    w.i32(2, 300)
    w.i32(3, 200)
    w.i32(4, -12345)  // crc (known to Parquet, ignored here)
    w.beginStruct(5)  // DataPageHeader
    w.i32(1, 42)
    w.i32(2, 8)
    w.i32(3, 3)
    w.i32(4, 3)
    w.beginStruct(5)  // Statistics
    w.binary(1, "max"); w.binary(2, "min"); w.i64(3, 7); w.bool(4, true)
    w.endStruct()
    w.endStruct()
    // Unknown fields: bool, byte, i16, double, list<struct>, set<i32>, map<binary,list<bool>>, long-form ids.
    w.bool(9, false)
    w.field(10, 3); w.bytes.append(0x7F)
    w.field(11, 4); w.zigzag(-300)
    w.field(12, 7); w.bytes += [UInt8](repeating: 0xAB, count: 8)
    w.field(13, 9); w.bytes.append(0x2C)  // list of 2 structs
    w.bytes += [0x15, 0x02, 0x00, 0x00]  // {1: i32 1}, {}
    w.field(14, 10); w.bytes.append(0xF5); w.varint(20)  // set of 20 i32 (long size form)
    for i in 0..<20 { w.zigzag(Int64(i) * 1000) }
    w.field(300, 11); w.varint(2); w.bytes.append(0x89)  // map<binary, list>, long-form id 300
    for _ in 0..<2 { w.varint(1); w.bytes.append(0x41); w.bytes.append(0x31); w.bytes += [1, 2, 1] }  // "A" → [true,false,true]
    w.field(-5, 11); w.varint(0)  // empty map, negative long-form id
    w.beginStruct(200)
    w.beginStruct(1); w.beginStruct(2); w.i32(3, 3); w.endStruct(); w.endStruct()
    w.endStruct()
    w.stop()
    w.bytes += [0xEE, 0xEE]  // trailing bytes after the struct are not consumed

    var r = ThriftCompactReader(bytes: w.bytes, context: "test")
    let h = try ParquetPageHeader(&r)
    XCTAssertEqual(r.position, w.bytes.count - 2)
    XCTAssertEqual(h.type, .dataPage)
    XCTAssertEqual(h.uncompressedPageSize, 300)
    XCTAssertEqual(h.compressedPageSize, 200)
    let v1 = try XCTUnwrap(h.dataV1)
    XCTAssertEqual(v1.numValues, 42)
    XCTAssertEqual(ParquetEncoding(thrift: v1.encoding), .rleDictionary)
  }

  func testThriftDataPageV2BooleanFieldAndDictionaryHeader() throws {
    var w = ThriftCompactTestWriter()
    w.i32(1, 3); w.i32(2, 10); w.i32(3, 8)
    w.beginStruct(8)
    w.i32(1, 5); w.i32(2, 2); w.i32(3, 5); w.i32(4, 0); w.i32(5, 3); w.i32(6, 0); w.bool(7, false)
    w.endStruct()
    w.stop()
    var r = ThriftCompactReader(bytes: w.bytes, context: "test")
    let h = try ParquetPageHeader(&r)
    let v2 = try XCTUnwrap(h.dataV2)
    XCTAssertEqual(h.type, .dataPageV2)
    XCTAssertEqual([v2.numValues, v2.numNulls, v2.numRows, v2.definitionLevelsByteLength], [5, 2, 5, 3])
    XCTAssertFalse(v2.isCompressed)

    var d = ThriftCompactTestWriter()
    d.i32(1, 2); d.i32(2, 4); d.i32(3, 4)
    d.beginStruct(7); d.i32(1, 3); d.i32(2, 0); d.bool(3, true); d.endStruct()
    d.stop()
    var rd = ThriftCompactReader(bytes: d.bytes, context: "test")
    let hd = try ParquetPageHeader(&rd)
    XCTAssertEqual(hd.type, .dictionaryPage)
    XCTAssertEqual(hd.dictionary?.numValues, 3)
  }

  func testThriftMalformedInputIsAnErrorWithOffset() {
    func fails(_ bytes: [UInt8], _ contains: String, line: UInt = #line) {
      var r = ThriftCompactReader(bytes: bytes, baseOffset: 1000, context: "ctx")
      assertParquetError(try ParquetPageHeader(&r), contains: ["ctx", "byte offset", contains], line: line)
    }
    fails([], "unexpected end")
    fails([0x15], "unexpected end")  // field header without its value
    fails([0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "varint")
    fails([0x15, 0xFE, 0xFF, 0xFF, 0xFF, 0x7F], "out of range")  // i32 overflow
    fails([0x98, 0x05, 0x41], "runs past the end")  // unknown binary field: length 5, 1 byte present
    fails([0x1D], "unknown field type 13")
    fails([0x99, 0xF5, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], "implausibly large")  // unknown list of 2^32-1 elements
    fails([0x99, 0xF5, 0x64, 0x01], "runs past the end")  // unknown list of 100 elements, 1 byte present
    fails([0x25, 0x02, 0x00], "lacks type")
    fails([0x15, 0x00, 0x25, 0x03, 0x00], "negative page size")
    // Deeply nested unknown structs must not overflow the stack.
    fails([UInt8](repeating: 0xFC, count: 100_000), "nested more than")
    // Wrong wire type for a known field.
    fails([0x18, 0x00], "has type")
  }

  func testRLEBitPackedHybridDecodesSpecExamples() throws {
    // Bit-packed run (1 group of 8 values, width 3): 0..7 → 0x88 0xC6 0xFA (parquet-format Encodings.md).
    var out: [UInt32] = []
    var d = try RLEBitPackedDecoder(ParquetByteCursor([0x03, 0x88, 0xC6, 0xFA]), bitWidth: 3, what: "t")
    try d.decode(count: 8, into: &out)
    XCTAssertEqual(out, [0, 1, 2, 3, 4, 5, 6, 7])

    // RLE run of five 3s (width 2), then a bit-packed run of 8 one-bit values, decoded across calls.
    out = []
    d = try RLEBitPackedDecoder(ParquetByteCursor([0x0A, 0x03, 0x03, 0b1010_0101]), bitWidth: 2, what: "t")
    try d.decode(count: 3, into: &out)
    try d.decode(count: 4, into: &out)
    XCTAssertEqual(out, [3, 3, 3, 3, 3, 1, 1])
    // Width-1 semantics need their own decoder.
    out = []
    d = try RLEBitPackedDecoder(ParquetByteCursor([0x0A, 0x01, 0x03, 0b1010_0101]), bitWidth: 1, what: "t")
    try d.decode(count: 13, into: &out)
    XCTAssertEqual(out, [1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1])

    // Width 20 values spanning byte boundaries; RLE values of width 17 take 3 bytes.
    let values: [UInt32] = [0xFFFFF, 0, 0x12345, 0x80000, 1, 0xABCDE, 0x55555, 0x0F0F0]
    var packed = [UInt8](repeating: 0, count: 20)
    for (i, v) in values.enumerated() {
      for b in 0..<20 where v & (1 << UInt32(b)) != 0 { packed[(i * 20 + b) / 8] |= 1 << UInt8((i * 20 + b) % 8) }
    }
    out = []
    d = try RLEBitPackedDecoder(ParquetByteCursor([0x03] + packed), bitWidth: 20, what: "t")
    try d.decode(count: 8, into: &out)
    XCTAssertEqual(out, values)
    out = []
    d = try RLEBitPackedDecoder(ParquetByteCursor([0x04, 0x01, 0x00, 0x01]), bitWidth: 17, what: "t")
    try d.decode(count: 2, into: &out)
    XCTAssertEqual(out, [0x10001, 0x10001])

    // Width 0: every value is 0 and no value bytes are stored.
    out = []
    d = try RLEBitPackedDecoder(ParquetByteCursor([0x14]), bitWidth: 0, what: "t")
    try d.decode(count: 10, into: &out)
    XCTAssertEqual(out, [UInt32](repeating: 0, count: 10))
  }

  func testRLEBitPackedHybridRejectsTruncatedAndInvalidRuns() throws {
    func fails(_ bytes: [UInt8], width: Int, count: Int, _ contains: String, line: UInt = #line) {
      var out: [UInt32] = []
      do {
        var d = try RLEBitPackedDecoder(ParquetByteCursor(bytes), bitWidth: width, what: "levels")
        try d.decode(count: count, into: &out)
        XCTFail("expected an error containing '\(contains)'", line: line)
      } catch let e as ParquetDecodeError {
        XCTAssertTrue(e.message.contains(contains), e.message, line: line)
      } catch { XCTFail("\(error)", line: line) }
    }
    fails([], width: 1, count: 1, "ends before")
    fails([0x0A], width: 8, count: 1, "end of page")  // RLE run without its value byte
    fails([0x03, 0x88], width: 3, count: 8, "truncated")  // bit-packed run missing bytes
    fails([0x00], width: 1, count: 1, "run length 0")
    fails([0x04, 0x01], width: 33, count: 1, "bit width 33")
    fails([0x04, 0x01], width: 1, count: 3, "ends before")  // run of 2, 3 wanted
    // A short final bit-packed run is fine when only the values present are requested.
    var out: [UInt32] = []
    var d = try RLEBitPackedDecoder(ParquetByteCursor([0x05, 0xFF]), bitWidth: 1, what: "t")  // claims 16 values, 8 present
    try d.decode(count: 8, into: &out)
    XCTAssertEqual(out, [UInt32](repeating: 1, count: 8))
  }

  func testPlainBooleansAcrossCallsAndByteArrays() throws {
    var b = BooleanBuilder(expectedRows: 0)
    var cursor = ParquetByteCursor([0b1011_0101, 0b0000_0011])
    b.beginPage()
    try b.appendPlain(&cursor, count: 3)
    b.appendNulls(1)
    try b.appendPlain(&cursor, count: 7)
    guard case .boolean(let bits) = b.storage() else { return XCTFail() }
    XCTAssertEqual(bits, [true, false, true, false, false, true, true, false, true, true, true])
    XCTAssertThrowsError(try b.appendPlain(&cursor, count: 8))

    var s = ByteArrayBuilder(expectedRows: 0)
    var data = ParquetByteCursor([2, 0, 0, 0, 0x68, 0x69, 0, 0, 0, 0, 9, 0, 0, 0, 0x41])
    try s.appendPlain(&data, count: 2)
    XCTAssertThrowsError(try s.appendPlain(&data, count: 1)) { e in
      XCTAssertTrue((e as? ParquetDecodeError)?.message.contains("BYTE_ARRAY value") ?? false, "\(e)")
    }
    guard case .byteArray(let arrays) = s.storage() else { return XCTFail() }
    XCTAssertEqual(arrays.count, 2)
    XCTAssertEqual(arrays.string(at: 0), "hi")
    XCTAssertEqual(arrays.string(at: 1), "")

    var i = FixedWidthBuilder<Int64>(expectedRows: 0)
    var dict = ParquetByteCursor([1, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    try i.loadDictionary(&dict, count: 2)
    try i.appendDictionary([1, 0, 1])
    XCTAssertThrowsError(try i.appendDictionary([2])) { e in
      XCTAssertTrue((e as? ParquetDecodeError)?.message.contains("dictionary index 2 is out of range") ?? false, "\(e)")
    }
    XCTAssertEqual(i.values, [-1, 1, -1])
  }
}
