import Foundation
import XCTest
@testable import TMLServe

/// The request JSON parser: values, exact integers, escapes, and the position of errors.
final class JSONReaderTests: XCTestCase {
  func parse(_ s: String) throws -> JSONValue { try JSONReader.parse(Array(s.utf8)) }

  func error(_ s: String) -> JSONParseError? {
    do { _ = try parse(s); return nil } catch { return error as? JSONParseError }
  }

  func testValuesNumbersAndStrings() throws {
    let v = try parse(#" {"a": [1, -2.5e3, 0], "b": {"c": null, "d": [true, false, "x\"\\\/\n\u00e9\ud83d\ude00"]}, "e": []} "#)
    XCTAssertEqual(v["a"], .numbers([1, -2500, 0]))
    XCTAssertEqual(v["b"]?["c"], .null)
    XCTAssertEqual(v["b"]?["d"], .array([.bool(true), .bool(false), .string("x\"\\/\né😀")]))
    XCTAssertEqual(v["e"]?.elements?.count, 0)
    // Ids beyond 2^53 stay exact, in arrays too.
    XCTAssertEqual(try parse("9007199254740993"), .number(9007199254740992, 9007199254740993))
    if case .number(_, let exact)? = try parse("[1, 9223372036854775807]").elements?.last { XCTAssertEqual(exact, Int64.max) } else { XCTFail() }
    if case .number(_, let exact) = try parse("-9223372036854775808") { XCTAssertEqual(exact, Int64.min) } else { XCTFail() }
    if case .number(let d, let exact) = try parse("18446744073709551616") { XCTAssertNil(exact); XCTAssertEqual(d, 18446744073709551616) } else { XCTFail() }
    if case .number(let d, let exact) = try parse("0.1") { XCTAssertNil(exact); XCTAssertEqual(d, 0.1) } else { XCTFail() }
  }

  func testErrorsGiveByteLineAndColumn() {
    let cases: [(String, Int, Int, Int, String)] = [
      ("", 0, 1, 1, "unexpected end of input"),
      ("{\"a\": 1,}", 8, 1, 9, "expected a member name"),
      ("[1, 2\n, 03]", 8, 2, 3, "leading zero"),
      ("{\"a\" 1}", 5, 1, 6, "expected ':'"),
      ("[1] x", 4, 1, 5, "after the JSON value"),
      ("\"abc", 4, 1, 5, "unterminated string"),
      ("\"a\u{01}\"", 2, 1, 3, "control character"),
      ("[1.]", 3, 1, 4, "digit after '.'"),
      ("[-]", 2, 1, 3, "expected a digit"),
      ("{\"a\": 1, \"a\": 2}", 9, 1, 10, "duplicate member name \"a\""),
      ("\"\\ud800x\"", 1, 1, 2, "unpaired high surrogate"),
      ("\"\\q\"", 1, 1, 2, "invalid escape"),
      ("nul", 0, 1, 1, "invalid literal"),
      ("[NaN]", 1, 1, 2, "expected a value"),
    ]
    for (text, offset, line, column, needle) in cases {
      guard let e = error(text) else { XCTFail("\(text) parsed"); continue }
      XCTAssertEqual([e.offset, e.line, e.column], [offset, line, column], "\(text): \(e)")
      XCTAssertTrue(e.message.contains(needle), "\(text): \(e)")
      XCTAssertTrue(e.description.hasPrefix("malformed JSON at byte \(offset) (line \(line), column \(column)): "))
    }
    XCTAssertThrowsError(try JSONReader.parse([0x22, 0xFF, 0x22]), "invalid UTF-8 in a string") {
      XCTAssertEqual(($0 as? JSONParseError)?.offset, 0)
      XCTAssertTrue("\($0)".contains("invalid UTF-8"), "\($0)")
    }
  }

  func testNestingIsLimited() throws {
    XCTAssertNoThrow(try parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
    let deep = String(repeating: "[", count: 100_000)
    XCTAssertTrue(error(deep)?.message.contains("nesting deeper than 64") ?? false)
  }

  func testWriterEscapesAndRoundTrips() throws {
    var w = JSONWriter()
    w.object { o in
      o.key("s"); o.string("a\"b\\c\n\u{01}é")
      o.key("f"); o.float(0.1)
      o.key("d"); o.double(.nan)
      o.key("l"); o.array { a in a.int(1); a.int64(Int64.max); a.bool(true); a.null() }
    }
    XCTAssertEqual(w.text, #"{"s":"a\"b\\c\n\u0001é","f":0.1,"d":null,"l":[1,9223372036854775807,true,null]}"#)
    let back = try parse(w.text)
    XCTAssertEqual(back["s"], .string("a\"b\\c\n\u{01}é"))
    XCTAssertEqual(back["f"].flatMap { if case .number(let d, _) = $0 { return Float(d) } else { return nil } }, Float(0.1))
  }

  /// Long strings are scanned 8 bytes at a time: escapes, control characters and the closing
  /// quote are found at every position within a word.
  func testLongStringsAtEveryAlignment() throws {
    for n in 0..<40 {
      let plain = String(repeating: "a", count: n)
      XCTAssertEqual(try parse("\"\(plain)\""), .string(plain))
      XCTAssertEqual(try parse("[\"\(plain)é\\n\(plain)\"]"), .array([.string(plain + "é\n" + plain)]))
      XCTAssertEqual(try parse("\"\(plain)\\\"x\""), .string(plain + "\"x"))
      let e = error("\"\(plain)\u{01}bcdefghijklmnop\"")
      XCTAssertEqual(e?.offset, 1 + n, "control character after \(n) bytes")
      XCTAssertEqual(error("\"\(plain)")?.message.hasPrefix("unterminated string"), true)
    }
  }
}
