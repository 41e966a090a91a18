import Foundation
import XCTest
@testable import TMLData

/// Damaged, truncated and unsupported files give clear `DataError`s, never traps.
final class ParquetErrorTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func fixtureBytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: ParquetFixtures.path(name))))
  }

  func write(_ bytes: [UInt8], _ name: String) throws -> String {
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
  }

  /// Opens the file and reads every flat column of every row group.
  func readEverything(_ path: String) throws {
    let pf = try ParquetFile(path: path)
    for c in pf.schema {
      for g in 0..<pf.rowGroupCount { _ = try pf.readColumn(c.name, rowGroup: g) }
    }
  }

  func footerStart(_ bytes: [UInt8]) -> Int {
    let n = bytes.count
    let len = Int(bytes[n - 8]) | Int(bytes[n - 7]) << 8 | Int(bytes[n - 6]) << 16 | Int(bytes[n - 5]) << 24
    return n - 8 - len
  }

  func testMissingFileAndNonParquetFile() throws {
    let missing = dir.appendingPathComponent("nope.parquet").path
    assertParquetError(try ParquetFile(path: missing), contains: [missing, "cannot open"])
    let text = try write(Array("lhs,rhs\n1,2\n3,4\n5,6\n".utf8), "edges.csv")
    assertParquetError(try ParquetFile(path: text), contains: [text, "magic PAR1", "byte offset 0", "not a Parquet file"])
    assertParquetError(try ParquetFile(path: dir.path), contains: [dir.path])
  }

  func testTruncatedFilesAreErrorsNamingTheFile() throws {
    let bytes = try fixtureBytes("flat_zstd_dict_v1.parquet")
    for length in [0, 3, 4, 11] {
      let path = try write(Array(bytes[0..<length]), "short\(length).parquet")
      assertParquetError(try ParquetFile(path: path), contains: [path, "too small", "truncated"])
    }
    for length in [12, 100, bytes.count / 2, bytes.count - 5, bytes.count - 1] {
      let path = try write(Array(bytes[0..<length]), "cut\(length).parquet")
      assertParquetError(try ParquetFile(path: path), contains: [path, "PAR1", "truncated"])
    }
  }

  func testColumnDataCutOutOfTheMiddleIsAnErrorNamingTheColumn() throws {
    // Keep the header and the footer, drop most of the data: the footer's offsets now
    // point past the data section.
    let bytes = try fixtureBytes("flat_none_plain_v1.parquet")
    let footer = footerStart(bytes)
    let path = try write(Array(bytes[0..<(footer / 3)]) + Array(bytes[footer...]), "holed.parquet")
    let pf = try ParquetFile(path: path)
    assertParquetError(try pf.readColumn("str", rowGroup: 1), contains: [path, "column 'str'", "row group 1", "outside the file's data section", "truncated"])
  }

  func testBadMagicAtEitherEnd() throws {
    var bytes = try fixtureBytes("flat_snappy_plain_v2.parquet")
    bytes[3] = UInt8(ascii: "2")
    let head = try write(bytes, "head.parquet")
    assertParquetError(try ParquetFile(path: head), contains: [head, "does not start with the Parquet magic PAR1", "50 41 52 32"])
    bytes = try fixtureBytes("flat_snappy_plain_v2.parquet")
    bytes[bytes.count - 1] = UInt8(ascii: "E")
    bytes[bytes.count - 2] = UInt8(ascii: "R")
    let tail = try write(bytes, "tail.parquet")
    assertParquetError(try ParquetFile(path: tail), contains: [tail, "does not end with the Parquet magic", "byte offset \(bytes.count - 4)"])
    bytes[bytes.count - 1] = UInt8(ascii: "E")
    bytes[bytes.count - 2] = UInt8(ascii: "R")
    bytes[bytes.count - 3] = UInt8(ascii: "A")
    bytes[bytes.count - 4] = UInt8(ascii: "P")
    let encrypted = try write(bytes, "encrypted.parquet")
    assertParquetError(try ParquetFile(path: encrypted), contains: [encrypted, "encrypted"])
  }

  func testFooterLengthLargerThanTheFile() throws {
    var bytes = try fixtureBytes("flat_gzip_plain_v1.parquet")
    let n = bytes.count
    bytes[n - 5] = 0x7F
    let path = try write(bytes, "len.parquet")
    assertParquetError(try ParquetFile(path: path), contains: [path, "footer length", "byte offset \(n - 8)"])
  }

  func testGarbageFooterIsAnErrorWithAByteOffset() throws {
    var bytes = try fixtureBytes("flat_gzip_dict_v2.parquet")
    let start = footerStart(bytes)
    var rng = ParquetSplitMix(seed: 42)
    for i in start..<(bytes.count - 8) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
    let path = try write(bytes, "garbage.parquet")
    assertParquetError(try ParquetFile(path: path), contains: [path, "footer", "byte offset"])
    // A footer of all 0xFF bytes (endless varints, bogus types).
    for i in start..<(bytes.count - 8) { bytes[i] = 0xFF }
    let ff = try write(bytes, "ff.parquet")
    assertParquetError(try ParquetFile(path: ff), contains: [ff, "footer", "byte offset"])
  }

  func testMissingColumnListsTheColumnsThatExist() throws {
    let path = ParquetFixtures.path("flat_none_dict_v1.parquet")
    let pf = try ParquetFile(path: path)
    assertParquetError(try pf.readColumn("lhs", rowGroup: 0), contains: [path, "no column named 'lhs'", "'i32'", "'i64_opt'"])
    assertParquetError(try pf.readInt64Column("lhs"), contains: [path, "'lhs'"])
    assertParquetError(try pf.readColumn("i32", rowGroup: 2), contains: [path, "row group 2", "has 2"])
    assertParquetError(try pf.readColumn("i32", rowGroup: -1), contains: [path, "row group -1"])
  }

  func testNestedColumnIsRejectedByNameWhileFlatColumnsStillRead() throws {
    let path = ParquetFixtures.path("nested_list.parquet")
    let pf = try ParquetFile(path: path)
    XCTAssertEqual(pf.schema.map(\.name), ["id", "name"])
    XCTAssertEqual(pf.unsupportedColumns.map(\.name), ["tags"])
    assertParquetError(try pf.readColumn("tags", rowGroup: 0), contains: [path, "column 'tags'", "nested", "only flat columns"])
    assertParquetError(try pf.readInt64Column("tags"), contains: [path, "'tags'", "nested"])
    XCTAssertEqual(try pf.readInt64Column("id"), (1000..<1020).map { Int64($0) })
    XCTAssertEqual(try pf.readColumn("name").strings ?? [], (0..<20).map { "user\($0)" })
  }

  func testCorruptPageHeaderNamesColumnRowGroupPageAndOffset() throws {
    var bytes = try fixtureBytes("flat_none_dict_v1.parquet")
    let pf = try ParquetFile(path: ParquetFixtures.path("flat_none_dict_v1.parquet"))
    let column = try XCTUnwrap(pf.column(named: "i64"))
    let pages = try pf.chunkReader(column, 1).pageHeaders()
    let third = pages[2].offset
    // Field header: type 15 does not exist in the compact protocol.
    bytes[third] = 0x1F
    let path = try write(bytes, "page.parquet")
    let damaged = try ParquetFile(path: path)
    XCTAssertNoThrow(try damaged.readColumn("i64", rowGroup: 0))
    assertParquetError(
      try damaged.readColumn("i64", rowGroup: 1),
      contains: [path, "column 'i64', row group 1, page 2 header", "byte offset \(third)"])
  }

  func testCorruptCompressedPageNamesColumnRowGroupAndPage() throws {
    for name in ["flat_snappy_plain_v1.parquet", "flat_gzip_plain_v1.parquet", "flat_zstd_plain_v1.parquet"] {
      var bytes = try fixtureBytes(name)
      let pf = try ParquetFile(path: ParquetFixtures.path(name))
      let column = try XCTUnwrap(pf.column(named: "f64"))
      let pages = try pf.chunkReader(column, 0).pageHeaders()
      let page = pages[1]
      // Overwrite the compressed body (it follows the header) with 0xFF bytes.
      let body = page.offset + (try pageHeaderLength(bytes, at: page.offset))
      for i in body..<(body + Int(page.header.compressedPageSize)) { bytes[i] = 0xFF }
      let path = try write(bytes, name)
      assertParquetError(
        try ParquetFile(path: path).readColumn("f64", rowGroup: 0),
        contains: [path, "column 'f64', row group 0, page 1 at byte offset \(page.offset)"])
    }
  }

  private func pageHeaderLength(_ bytes: [UInt8], at offset: Int) throws -> Int {
    var r = ThriftCompactReader(bytes: bytes, position: offset, context: "test")
    _ = try ParquetPageHeader(&r)
    return r.position - offset
  }

  /// Random byte damage anywhere in the file must never trap: each attempt either
  /// reads or throws a `DataError`.
  func testRandomDamageNeverTraps() throws {
    var rng = ParquetSplitMix(seed: 7)
    var errors = 0, reads = 0
    // PARQUET_FUZZ_ITERATIONS raises the attempts per file for a longer local run.
    let attempts = Int(ProcessInfo.processInfo.environment["PARQUET_FUZZ_ITERATIONS"] ?? "") ?? 150
    for name in ["flat_none_dict_v1.parquet", "flat_snappy_dict_v2.parquet", "flat_gzip_plain_v1.parquet",
                 "flat_zstd_plain_v2.parquet", "nested_list.parquet"] {
      let original = try fixtureBytes(name)
      let footer = footerStart(original)
      for attempt in 0..<attempts {
        var bytes = original
        let flips = 1 + Int(rng.next() % 6)
        for _ in 0..<flips {
          // Half the damage lands in the footer, where it matters most.
          let inFooter = rng.next() % 2 == 0
          let lo = inFooter ? footer : 4
          let hi = inFooter ? bytes.count - 8 : footer
          let i = lo + Int(rng.next() % UInt64(hi - lo))
          bytes[i] = UInt8(truncatingIfNeeded: rng.next())
        }
        let path = try write(bytes, "fuzz-\(attempt)-\(name)")
        do {
          try readEverything(path)
          reads += 1
        } catch is DataError {
          errors += 1
        } catch {
          XCTFail("\(name) attempt \(attempt): non-DataError \(error)")
        }
        try? FileManager.default.removeItem(atPath: path)
      }
    }
    XCTAssertGreaterThan(errors, attempts)
    XCTAssertEqual(reads + errors, 5 * attempts)
  }
}

/// A small deterministic PRNG for the damage tests.
struct ParquetSplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
