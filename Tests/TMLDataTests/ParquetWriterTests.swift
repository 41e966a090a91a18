import Foundation
import XCTest
@testable import TMLData

/// `ParquetWriter`: Swift writer → Swift reader, and → pyarrow where it is installed.
final class ParquetWriterTests: XCTestCase {
  func tempFile(_ name: String = "t.parquet") -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-writer-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir.appendingPathComponent(name).path
  }

  func testThriftWriterEncodesWhatTheReaderDecodes() throws {
    var w = ThriftCompactWriter()
    w.structure { w in
      w.field(1, i32: -7)
      w.field(4, string: "lhs")
      w.field(20, i64: 1 << 40)  // long delta: type byte then the id
      w.field(21, listOf: .i32, count: 16) { w in for i in 0..<16 { w.zigzag(Int64(i)) } }
    }
    var r = ThriftCompactReader(bytes: w.bytes, context: "test")
    var seen: [Int16] = []
    try r.readStruct { r, f in
      seen.append(f.id)
      switch f.id {
      case 1: XCTAssertEqual(try r.readI32(), -7)
      case 4: XCTAssertEqual(try r.readString(), "lhs")
      case 20: XCTAssertEqual(try r.readI64(), 1 << 40)
      case 21: XCTAssertEqual(try r.readList(of: .i32) { try $0.readI32() }, Array(0..<16))
      default: return false
      }
      return true
    }
    XCTAssertEqual(seen, [1, 4, 20, 21])
  }

  func testRoundTripThroughTheReaderWithManyRowGroupsAndPages() throws {
    let path = tempFile()
    let n = 10_007
    let lhs = (0..<n).map { Int64($0) * 3 - 5 }, rel = (0..<n).map { Int32($0 % 4) }, rhs = (0..<n).map { Int64.max - Int64($0) }
    let w = try ParquetWriter(path: path, columns: [("lhs", .int64), ("rel", .int32), ("rhs", .int64)], pageRows: 1000)
    for start in stride(from: 0, to: n, by: 4096) {
      let r = start..<min(start + 4096, n)
      try w.write(rowGroup: [.int64(Array(lhs[r])), .int32(Array(rel[r])), .int64(Array(rhs[r]))])
    }
    try w.close()
    let f = try ParquetFile(path: path)
    XCTAssertEqual(f.rowCount, n)
    XCTAssertEqual(f.rowGroupRowCounts, [4096, 4096, 1815])
    XCTAssertEqual(f.schema.map(\.description), ["lhs: INT64", "rel: INT32", "rhs: INT64"])
    XCTAssertEqual(try f.readInt64Column("lhs"), lhs)
    XCTAssertEqual(try f.readInt64Column("rel"), rel.map(Int64.init))
    XCTAssertEqual(try f.readInt64Column("rhs"), rhs)
    XCTAssertEqual(try f.columnChunkInfo("rhs", rowGroup: 1).codec, .uncompressed)
  }

  func testEmptyTableAndStaticWriter() throws {
    let path = tempFile()
    try ParquetWriter.write(path: path, columns: [("a", .int64([]))])
    let f = try ParquetFile(path: path)
    XCTAssertEqual(f.rowCount, 0)
    XCTAssertEqual(try f.readInt64Column("a"), [])
    let two = tempFile()
    try ParquetWriter.write(path: two, columns: [("a", .int64([1, 2, 3])), ("b", .int32([4, 5, 6]))], rowGroupRows: 2)
    XCTAssertEqual(try ParquetFile(path: two).rowGroupRowCounts, [2, 1])
  }

  func testBadInputIsAnErrorNotATrap() throws {
    let path = tempFile()
    XCTAssertThrowsError(try ParquetWriter(path: path, columns: [("a", .int64), ("a", .int64)])) { XCTAssertTrue("\($0)".contains("repeated")) }
    let w = try ParquetWriter(path: path, columns: [("a", .int64), ("b", .int64)])
    XCTAssertThrowsError(try w.write(rowGroup: [.int64([1]), .int64([1, 2])])) { XCTAssertTrue("\($0)".contains("one value per row")) }
    XCTAssertThrowsError(try w.write(rowGroup: [.int64([1]), .int32([1])])) { XCTAssertTrue("\($0)".contains("'b' is int64")) }
    XCTAssertThrowsError(try ParquetWriter.write(path: tempFile(), columns: [("a", .int64([1])), ("b", .int64([]))])) {
      XCTAssertTrue("\($0)".contains("one value per row"))
    }
  }

  func testPyarrowReadsWhatWeWrite() throws {
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    probe.arguments = ["python3", "-c", "import pyarrow.parquet"]
    probe.standardError = FileHandle.nullDevice
    do { try probe.run(); probe.waitUntilExit() } catch {}
    guard probe.terminationReason == .exit, probe.terminationStatus == 0 else {
      print("ParquetWriterTests: skipping the pyarrow cross-check: `python3 -c \"import pyarrow\"` failed (install pyarrow to run it)")
      throw XCTSkip("pyarrow is not importable")
    }
    let path = tempFile()
    let lhs = (0..<3000).map { Int64($0 * 7) }, rel = (0..<3000).map { Int32($0 % 3) }
    try ParquetWriter.write(path: path, columns: [("lhs", .int64(lhs)), ("rel", .int32(rel))], rowGroupRows: 1000)
    let script = """
      import sys, json, pyarrow.parquet as pq
      t = pq.read_table(sys.argv[1]); m = pq.ParquetFile(sys.argv[1]).metadata
      print(json.dumps({"rows": t.num_rows, "groups": m.num_row_groups, "types": [str(f.type) for f in t.schema],
                        "lhs_sum": sum(t.column("lhs").to_pylist()), "rel": t.column("rel").to_pylist()[:5]}))
      """
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script, path]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    p.waitUntilExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertEqual(p.terminationStatus, 0, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    XCTAssertEqual(json["rows"] as? Int, 3000)
    XCTAssertEqual(json["groups"] as? Int, 3)
    XCTAssertEqual(json["types"] as? [String], ["int64", "int32"])
    XCTAssertEqual(json["lhs_sum"] as? Int, Int(lhs.reduce(0, +)))
    XCTAssertEqual(json["rel"] as? [Int], [0, 1, 2, 0, 1])
  }
}
