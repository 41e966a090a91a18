import Foundation
import XCTest
@testable import TMLData

final class EdgeTableTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("edges-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func write(_ text: String, _ name: String) throws -> String {
    let url = dir.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url.path
  }

  func testTwitterFollowGraphStyleCSVWithSpacesAfterCommas() throws {
    let path = try write("user_index, author_index, time_chunk\n0, 5, 1\n1,6,2\r\n\n-7 , 9223372036854775807 ,3\n", "follow.csv")
    let t = try EdgeTable(path: path, columns: .init(lhs: "user_index", rhs: "author_index", time: "time_chunk"))
    XCTAssertEqual(t.count, 3)
    XCTAssertEqual(t.lhs, [0, 1, -7])
    XCTAssertEqual(t.rhs, [5, 6, Int64.max])
    XCTAssertEqual(t.time, [1, 2, 3])
    XCTAssertNil(t.relation)
  }

  func testTSVIsDetectedAndRelationColumnRead() throws {
    let path = try write("\u{FEFF}lhs\trel\trhs\tnote\n1\t0\t2\tx,y\n3\t1\t4\t\n5\t0\t6", "edges.tsv")  // no final newline
    let t = try EdgeTable(path: path, columns: .init(relation: "rel"))
    XCTAssertEqual(t.lhs, [1, 3, 5])
    XCTAssertEqual(t.rhs, [2, 4, 6])
    XCTAssertEqual(t.relation, [0, 1, 0])
    XCTAssertNil(t.time)
  }

  func testExplicitDelimiterQuotesAndAllFourColumns() throws {
    let path = try write("\"src\";\"kind\";\"dst\";\"t\";\"label\"\n\"10\";2;20;100;\"a;b \"\"q\"\"\"\n-1;+3;0;7;plain\n", "edges.txt")
    let t = try EdgeTable(path: path, columns: .init(lhs: "src", rhs: "dst", relation: "kind", time: "t"), delimiter: ";")
    XCTAssertEqual(t.lhs, [10, -1])
    XCTAssertEqual(t.rhs, [20, 0])
    XCTAssertEqual(t.relation, [2, 3])
    XCTAssertEqual(t.time, [100, 7])
  }

  func testGzipFileAndManyLinesAcrossReadChunks() throws {
    var text = "lhs,rhs\n"
    for i in 0..<200_000 { text += "\(i),\(i &* 7919 % 100_003)\n" }
    let path = dir.appendingPathComponent("big.csv.gz").path
    let w = try GzipWriter(path: path)
    try Array(text.utf8).withUnsafeBytes { try w.write($0) }
    try w.close()
    let t = try EdgeTable(path: path)
    XCTAssertEqual(t.count, 200_000)
    XCTAssertEqual(t.lhs.last, 199_999)
    XCTAssertEqual(t.rhs[12345], Int64(12345 * 7919 % 100_003))
  }

  func testErrorsNameFileLineAndColumn() throws {
    let bad = try write("lhs,rhs\n1,2\n3,x4\n", "bad.csv")
    assertParquetError(try EdgeTable(path: bad), contains: [bad, "line 3", "column 'rhs'", "'x4'", "not an integer"])
    let overflow = try write("lhs,rhs\n9223372036854775808,1\n", "overflow.csv")
    assertParquetError(try EdgeTable(path: overflow), contains: [overflow, "line 2", "column 'lhs'"])
    let short = try write("a,b,c\n1,2,3\n\n4,5\n", "short.csv")
    assertParquetError(try EdgeTable(path: short, columns: .init(lhs: "a", rhs: "c")),
      contains: [short, "line 4", "has 2 fields", "column 'c'", "field 3"])
    let missing = try write("user_index,tweet_index\n1,2\n", "fave.csv")
    assertParquetError(try EdgeTable(path: missing), contains: [missing, "line 1", "no column 'lhs'", "'user_index'", "'tweet_index'"])
    let empty = try write("\n\n", "empty.csv")
    assertParquetError(try EdgeTable(path: empty), contains: [empty, "empty"])
    let quote = try write("lhs,rhs\n\"1,2\n", "quote.csv")
    assertParquetError(try EdgeTable(path: quote), contains: [quote, "line 2", "unterminated"])
    let blank = try write("lhs,rhs\n1,\n", "blank.csv")
    assertParquetError(try EdgeTable(path: blank), contains: [blank, "line 2", "column 'rhs'", "''"])
    assertParquetError(try EdgeTable(path: blank, delimiter: "é"), contains: [blank, "delimiter"])
    let nowhere = dir.appendingPathComponent("none.csv").path
    assertParquetError(try EdgeTable(path: nowhere), contains: [nowhere, "cannot open"])
  }

  func testParseInt64Edges() {
    func p(_ s: String) -> Int64? { EdgeTableParser.parseInt64(Array(s.utf8)[...]) }
    XCTAssertEqual(p("0"), 0)
    XCTAssertEqual(p("-9223372036854775808"), Int64.min)
    XCTAssertEqual(p("9223372036854775807"), Int64.max)
    XCTAssertNil(p("9223372036854775808"))
    XCTAssertNil(p("-9223372036854775809"))
    XCTAssertNil(p(""))
    XCTAssertNil(p("-"))
    XCTAssertNil(p("1.0"))
    XCTAssertNil(p("1e3"))
  }
}
