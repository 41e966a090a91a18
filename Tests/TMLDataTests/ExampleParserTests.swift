import XCTest
@testable import TMLData

final class ExampleParserTests: XCTestCase {
  let parser = ExampleParser(slots: [
    .init(name: "cont", kind: .float, length: 3),
    .init(name: "ids", kind: .int64, length: 2),
  ])

  func parse(_ record: [UInt8]) throws -> ([Float], [Int64], [Bool]) {
    var f = [Float](repeating: 0, count: 3)
    var i = [Int64](repeating: 0, count: 2)
    let present = try f.withUnsafeMutableBufferPointer { fp in
      try i.withUnsafeMutableBufferPointer { ip in
        try record.withUnsafeBytes {
          try parser.parse($0, into: .init(floats: [fp.baseAddress, nil], int64s: [nil, ip.baseAddress]))
        }
      }
    }
    return (f, i, present)
  }

  func testPackedAndUnpackedEncodingsGiveTheSameValues() throws {
    let values: [(String, Wire.Value)] = [("cont", .floats([1.5, -2, 3.25])), ("ids", .ints([-7, 1 << 40]))]
    for packed in [true, false] {
      let (f, i, present) = try parse(Wire.example(values, packed: packed))
      XCTAssertEqual(f, [1.5, -2, 3.25])
      XCTAssertEqual(i, [-7, 1 << 40])
      XCTAssertEqual(present, [true, true])
    }
  }

  func testMissingFeatureKeepsZerosAndIsReportedAbsent() throws {
    let (f, i, present) = try parse(Wire.example([("ids", .ints([4, 5]))]))
    XCTAssertEqual(f, [0, 0, 0])
    XCTAssertEqual(i, [4, 5])
    XCTAssertEqual(present, [false, true])
  }

  func testUnknownFeaturesAndFieldsAreSkipped() throws {
    var record = Wire.example([("other", .strings(["x", "y"])), ("cont", .floats([1, 2, 3])), ("more", .floats([9]))])
    record += Wire.key(7, 0) + Wire.varint(99)  // unknown field at the Example level
    let (f, _, present) = try parse(record)
    XCTAssertEqual(f, [1, 2, 3])
    XCTAssertEqual(present, [true, false])
  }

  func testWrongLengthNamesTheFeature() {
    XCTAssertThrowsError(try parse(Wire.example([("cont", .floats([1, 2]))]))) { e in
      XCTAssertTrue("\(e)".contains("cont") && "\(e)".contains("2 values") && "\(e)".contains("length 3"), "\(e)")
    }
    XCTAssertThrowsError(try parse(Wire.example([("cont", .floats([1, 2, 3, 4]))]))) { e in
      XCTAssertTrue("\(e)".contains("more than 3"), "\(e)")
    }
  }

  func testWrongTypeNamesTheFeatureAndBothTypes() {
    XCTAssertThrowsError(try parse(Wire.example([("cont", .ints([1, 2, 3]))]))) { e in
      XCTAssertTrue("\(e)".contains("cont") && "\(e)".contains("int64_list") && "\(e)".contains("float_list"), "\(e)")
    }
  }

  func testTruncatedRecordIsAnErrorWithAByteOffset() throws {
    let record = Wire.example([("cont", .floats([1, 2, 3]))])
    for cut in 1..<record.count {
      XCTAssertThrowsError(try parse(Array(record.prefix(cut))), "cut at \(cut)") { e in
        XCTAssertTrue("\(e)".contains("malformed") || "\(e)".contains("values"), "\(e)")
      }
    }
  }

  func testTenThousandRandomAndMutatedRecordsNeverTrap() throws {
    var state: UInt64 = 0x1234_5678
    func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
    let seed = Wire.example([("cont", .floats([1, 2, 3])), ("ids", .ints([5, 6])), ("s", .strings(["abc"]))])
    var parsed = 0, rejected = 0
    for n in 0..<10_000 {
      var record: [UInt8]
      if n % 2 == 0 {
        record = seed
        for _ in 0..<(1 + Int(next() % 4)) { record[Int(next() % UInt64(record.count))] = UInt8(truncatingIfNeeded: next()) }
        if next() % 5 == 0 { record = Array(record.prefix(Int(next() % UInt64(record.count)))) }
      } else {
        record = (0..<Int(next() % 64)).map { _ in UInt8(truncatingIfNeeded: next()) }
      }
      do { _ = try parse(record); parsed += 1 } catch { rejected += 1 }
    }
    XCTAssertEqual(parsed + rejected, 10_000)
    XCTAssertGreaterThan(rejected, 0)
  }
}
