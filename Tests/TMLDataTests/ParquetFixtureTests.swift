import Foundation
import XCTest
@testable import TMLData

/// Reads every pyarrow-written fixture and compares with expected.json bit-exactly.
final class ParquetFixtureTests: XCTestCase {
  func testFixtureSetCoversEveryCodecDictionaryAndPageVersion() throws {
    let files = try ParquetFixtures.load()
    let flat = files.filter { $0.nestedColumns.isEmpty }
    var combos = Set<String>()
    for f in flat { combos.insert("\(f.codec)/\(f.dictionary)/\(f.dataPageVersion)") }
    XCTAssertEqual(combos.count, 16, "\(combos.sorted())")
    XCTAssertTrue(files.contains { !$0.nestedColumns.isEmpty })
  }

  func testEveryFixtureReadsExactlyTheExpectedValues() throws {
    let files = try ParquetFixtures.load()
    XCTAssertGreaterThanOrEqual(files.count, 17)
    for f in files {
      let pf = try ParquetFile(path: ParquetFixtures.path(f.name))
      XCTAssertEqual(pf.rowCount, f.rows, f.name)
      XCTAssertEqual(pf.rowGroupCount, f.rowGroups, f.name)
      XCTAssertEqual(pf.unsupportedColumns.map(\.name), f.nestedColumns, f.name)
      XCTAssertEqual(Set(pf.schema.map(\.name)), Set(f.columns.map(\.name)), f.name)
      for c in f.columns {
        let column = try XCTUnwrap(pf.column(named: c.name), "\(f.name): \(c.name)")
        XCTAssertEqual(column.physicalType, ParquetFixtures.physicalType(c.type), "\(f.name): \(c.name)")
        XCTAssertEqual(column.isOptional, c.optional, "\(f.name): \(c.name)")

        // Row group by row group…
        var perGroup: [ParquetValue] = []
        for g in 0..<pf.rowGroupCount {
          let values = try pf.readColumn(c.name, rowGroup: g)
          XCTAssertEqual(values.count, pf.rowGroupRowCounts[g])
          perGroup += values.values
        }
        assertSameValues(perGroup, c.values, "\(f.name): \(c.name) (per row group)")
        // …and all at once.
        let all = try pf.readColumn(c.name)
        assertSameValues(all.values, c.values, "\(f.name): \(c.name) (whole column)")
        XCTAssertEqual(all.nullCount, c.values.filter { $0 == .null }.count, "\(f.name): \(c.name)")
      }
    }
  }

  private func assertSameValues(_ got: [ParquetValue], _ want: [ParquetValue], _ what: String, line: UInt = #line) {
    XCTAssertEqual(got.count, want.count, "\(what): value count", line: line)
    if let i = (0..<min(got.count, want.count)).first(where: { got[$0] != want[$0] }) {
      XCTFail("\(what): first mismatch at row \(i): got \(got[i]), want \(want[i])", line: line)
    }
  }

  func testFixturesHaveSeveralPagesDictionaryFallbackAndTheRightPageVersion() throws {
    for f in try ParquetFixtures.load() where f.nestedColumns.isEmpty {
      let pf = try ParquetFile(path: ParquetFixtures.path(f.name))
      XCTAssertGreaterThanOrEqual(pf.rowGroupCount, 2, f.name)
      for g in 0..<pf.rowGroupCount {
        let info = try pf.columnChunkInfo("i64", rowGroup: g)
        XCTAssertEqual(info.codec.description, f.codec == "NONE" ? "UNCOMPRESSED" : f.codec, f.name)
        let column = try XCTUnwrap(pf.column(named: "i64"))
        let pages = try pf.chunkReader(column, g).pageHeaders().map(\.header)
        let dataPages = pages.filter { $0.type == .dataPage || $0.type == .dataPageV2 }
        XCTAssertGreaterThanOrEqual(dataPages.count, 3, "\(f.name) row group \(g)")
        let wantType: ParquetPageHeader.PageType = f.dataPageVersion == "2.0" ? .dataPageV2 : .dataPage
        XCTAssertTrue(dataPages.allSatisfy { $0.type == wantType }, f.name)
        let encodings = Set(dataPages.map { ParquetEncoding(thrift: $0.dataV1?.encoding ?? $0.dataV2?.encoding ?? -1) })
        if f.dictionary {
          XCTAssertEqual(pages.first?.type, .dictionaryPage, f.name)
          // The small dictionary page limit makes this high-cardinality column fall back to PLAIN mid-chunk.
          XCTAssertEqual(encodings, [.rleDictionary, .plain], f.name)
        } else {
          XCTAssertFalse(pages.contains { $0.type == .dictionaryPage }, f.name)
          XCTAssertEqual(encodings, [.plain], f.name)
        }
      }
    }
  }

  func testZeroRowFilesAsPyarrowWritesThemReadAsEmptyColumns() throws {
    // One row group of 0 rows; its chunks hold only a dictionary page (data_page_offset 0)
    // or, without dictionary encoding, no page at all (0 bytes).
    for name in ["empty_edges_dict.parquet", "empty_edges_plain.parquet"] {
      let pf = try ParquetFile(path: ParquetFixtures.path(name))
      XCTAssertEqual(pf.rowCount, 0, name)
      XCTAssertEqual(pf.rowGroupCount, 1, name)
      XCTAssertEqual(pf.schema.map(\.name), ["lhs", "rel", "rhs"], name)
      for c in ["lhs", "rel", "rhs"] {
        XCTAssertEqual(try pf.readInt64Column(c), [], "\(name): \(c)")
        XCTAssertEqual(try pf.readColumn(c, rowGroup: 0).count, 0, "\(name): \(c)")
      }
    }
  }

  func testReadInt64ColumnWidensInt32AndRejectsNullsNamingTheRow() throws {
    let files = try ParquetFixtures.load()
    let f = try XCTUnwrap(files.first { $0.name == "flat_snappy_dict_v2.parquet" })
    let path = ParquetFixtures.path(f.name)
    let pf = try ParquetFile(path: path)
    func expected(_ name: String) -> [ParquetValue] { f.columns.first { $0.name == name }?.values ?? [] }

    let i64 = try pf.readInt64Column("i64")
    XCTAssertEqual(i64.map { ParquetValue.int64($0) }, expected("i64"))
    let i32 = try pf.readInt64Column("i32")
    XCTAssertEqual(i32.map { ParquetValue.int32(Int32($0)) }, expected("i32"))
    XCTAssertTrue(i32.contains(Int64(Int32.min)) && i32.contains(Int64(Int32.max)))
    XCTAssertEqual(try pf.readInt64Column("i64", rowGroup: 1), Array(i64[pf.rowGroupRowCounts[0]...]))

    let firstNull = try XCTUnwrap(expected("i64_opt").firstIndex(of: .null))
    let group = firstNull < pf.rowGroupRowCounts[0] ? 0 : 1
    assertParquetError(
      try pf.readInt64Column("i64_opt"),
      contains: [path, "'i64_opt'", "null at row \(firstNull)", "row group \(group)"])
    assertParquetError(try pf.readInt64Column("f64"), contains: [path, "'f64'", "DOUBLE", "INT64"])
  }

  func testGenericAccessorsAndValidity() throws {
    let pf = try ParquetFile(path: ParquetFixtures.path("flat_none_plain_v1.parquet"))
    let s = try pf.readColumn("str", rowGroup: 1)
    let strings = try XCTUnwrap(s.strings)
    XCTAssertEqual(strings.count, s.count)
    XCTAssertTrue(strings[0..<20].allSatisfy { $0 == nil })  // the generator nulls rows 100..<120
    XCTAssertEqual(s.validity?.nullCount, s.nullCount)
    XCTAssertTrue(s.isNull(0))
    XCTAssertEqual(s[0], .null)
    XCTAssertEqual(s[-1], .null)
    XCTAssertEqual(s[s.count], .null)
    let i = try pf.readColumn("i32", rowGroup: 0)
    XCTAssertNil(i.validity)
    guard case .int32(let raw) = i.storage else { return XCTFail("i32 storage is \(i.storage)") }
    XCTAssertEqual(raw.count, pf.rowGroupRowCounts[0])
    XCTAssertEqual(raw[3], Int32.min)
  }

  func testValidityBitmapAppendsRunsAcrossWordBoundaries() {
    var v = ParquetValidity()
    v.append(valid: true, count: 3)
    v.append(valid: false, count: 70)
    v.append(valid: true, count: 100)
    v.append(valid: false, count: 1)
    XCTAssertEqual(v.count, 174)
    XCTAssertEqual(v.nullCount, 71)
    for row in 0..<174 {
      XCTAssertEqual(v.isValid(row), row < 3 || (row >= 73 && row < 173), "row \(row)")
    }
    var w = ParquetValidity()
    w.append(valid: true, count: 1)
    w.append(v)
    XCTAssertEqual(w.count, 175)
    XCTAssertEqual(w.nullCount, 71)
    XCTAssertTrue(w.isValid(0) && w.isValid(3) && !w.isValid(4) && w.isValid(74) && !w.isValid(174))
    XCTAssertFalse(w.isValid(175))
    // Appends at every alignment agree with appending row by row.
    var rng = ParquetSplitMix(seed: 3)
    for _ in 0..<50 {
      var a = ParquetValidity(), b = ParquetValidity(), slow = ParquetValidity()
      for _ in 0..<Int(rng.next() % 200) { let x = rng.next() % 3 != 0; a.append(valid: x, count: 1); slow.append(valid: x, count: 1) }
      for _ in 0..<Int(rng.next() % 200) { let x = rng.next() % 3 != 0; b.append(valid: x, count: 1); slow.append(valid: x, count: 1) }
      a.append(b)
      XCTAssertEqual(a, slow)
    }
  }
}
