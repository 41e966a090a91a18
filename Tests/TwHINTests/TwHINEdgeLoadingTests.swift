import Foundation
import TMLData
import XCTest
@testable import TwHIN

/// Edge files → `EdgeList`: Parquet and CSV/TSV, column mapping, relation names,
/// limit/offset in batches, vocabularies, and every kind of bad input as a clear error.
final class TwHINEdgeLoadingTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("twhin-edges-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  /// user(10) / tweet(20); fav user→tweet, follow user→user.
  func schema() throws -> GraphSchema {
    try GraphSchema(tables: [TableSpec(name: "user", numEmbeddings: 10), TableSpec(name: "tweet", numEmbeddings: 20)],
                    relations: [RelationSpec(name: "fav", lhs: "user", rhs: "tweet"), RelationSpec(name: "follow", lhs: "user", rhs: "user")])
  }

  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  func parquet(_ name: String, lhs: [Int64], rel: [Int64], rhs: [Int64], relName: String = "rel") throws {
    try ParquetWriter.write(path: path(name), columns: [("lhs", .int64(lhs)), (relName, .int64(rel)), ("rhs", .int64(rhs))])
  }

  func text(_ name: String, _ body: String) throws { try body.write(toFile: path(name), atomically: true, encoding: .utf8) }

  func data(_ root: String, batch: Int = 2, limit: Int? = nil, offset: Int? = nil, format: TwHINEdgeFormat? = nil,
            columns: TwHINEdgeColumns = .init(), unknown: TwHINUnknownIDs = .error) -> TwHINDataConfig {
    TwHINDataConfig(dataRoot: root, perReplicaBatchSize: batch, limit: limit, offset: offset, format: format, columns: columns, unknownIds: unknown)
  }

  func load(_ d: TwHINDataConfig, vocab: [Vocabulary?]? = nil) throws -> LoadedEdges {
    try EdgeLoader(schema: schema(), vocabularies: vocab).load(d, what: "train_data")
  }

  func testParquetGlobInFileOrderWithInt32AndInt64Columns() throws {
    try parquet("b.parquet", lhs: [3, 4], rel: [1, 0], rhs: [5, 6])
    try ParquetWriter.write(path: path("a.parquet"), columns: [("rhs", .int32([7, 8, 9])), ("lhs", .int32([0, 1, 2])), ("rel", .int32([0, 0, 1]))])
    let e = try load(data(path("*.parquet")))
    XCTAssertEqual(e.files.map { ($0 as NSString).lastPathComponent }, ["a.parquet", "b.parquet"])
    XCTAssertEqual(e.edges, try EdgeList(lhs: [0, 1, 2, 3, 4], relations: [0, 0, 1, 1, 0], rhs: [7, 8, 9, 5, 6]))
    XCTAssertEqual(e.rowsRead, 5)
    XCTAssertEqual(try load(data(dir.path)).edges.count, 5, "a directory means all its files")
  }

  func testLimitAndOffsetCountBatchesAcrossFiles() throws {
    try parquet("a.parquet", lhs: [0, 1, 2], rel: [0, 0, 0], rhs: [0, 1, 2])
    try parquet("b.parquet", lhs: [3, 4, 5, 6], rel: [0, 0, 0, 0], rhs: [3, 4, 5, 6])
    // batch 2: offset 1 batch = skip 2 edges, limit 2 batches = 4 edges → rows 2..<6.
    XCTAssertEqual(try load(data(path("*.parquet"), limit: 2, offset: 1)).edges.lhs, [2, 3, 4, 5])
    XCTAssertEqual(try load(data(path("*.parquet"), offset: 2)).edges.lhs, [4, 5, 6])
    XCTAssertEqual(try load(data(path("*.parquet"), limit: 1)).edges.lhs, [0, 1])
    assertTwHINError(["no edges in the window", "offset 5", "hold 7 edges"]) { try self.load(self.data(self.path("*.parquet"), offset: 5)) }
  }

  func testCSVWithRelationNamesAndRenamedColumnsAndTSV() throws {
    try text("e.csv", "src,kind,dst,time\n1,fav,4,99\n\n2,follow,3,98\r\n\"3\",1,0,97\n")
    let e = try load(data(path("e.csv"), columns: .init(lhs: "src", rel: "kind", rhs: "dst")))
    XCTAssertEqual(e.edges, try EdgeList(lhs: [1, 2, 3], relations: [0, 1, 1], rhs: [4, 3, 0]))
    try text("e.tsv", "lhs\trel\trhs\n5\tfav\t19\n")
    XCTAssertEqual(try load(data(path("e.tsv"))).edges.rhs, [19])
    try text("e.txt", "lhs,rel,rhs\n5,fav,19\n")
    XCTAssertEqual(try load(data(path("e.txt"), format: .csv)).edges.rhs, [19], "format overrides the extension")
  }

  func testVocabulariesMapRawIDsToRowsAndUnknownIDsAreAnErrorOrSkipped() throws {
    try ParquetWriter.write(path: path("user_vocab.parquet"), columns: [("id", .int64([1000, 2000, 3000])), ("index", .int64([2, 0, 9]))])
    try text("tweet_vocab.csv", "id\n555\n777\n")  // rows 0, 1 in file order
    let users = try Vocabulary(path: path("user_vocab.parquet"), table: "user", rows: 10)
    let tweets = try Vocabulary(path: path("tweet_vocab.csv"), table: "tweet", rows: 20)
    XCTAssertEqual(users.row(of: 3000), 9)
    XCTAssertEqual(users.id(ofRow: 0), 2000)
    XCTAssertNil(users.id(ofRow: 1))
    XCTAssertEqual(tweets.row(of: 777), 1)
    try parquet("e.parquet", lhs: [1000, 2000, 4242, 3000], rel: [0, 1, 0, 0], rhs: [777, 1000, 555, 999])
    assertTwHINError(["e.parquet", "row 2", "lhs id 4242", "\"fav\"", "vocab of table \"user\"", "unknown_ids: skip"]) {
      try self.load(self.data(self.path("e.parquet")), vocab: [users, tweets])
    }
    let e = try load(data(path("e.parquet"), unknown: .skip), vocab: [users, tweets])
    XCTAssertEqual(e.edges, try EdgeList(lhs: [2, 0], relations: [0, 1], rhs: [1, 2]))
    XCTAssertEqual(e.skippedUnknownIDs, 2)
  }

  func testSkippedUnknownIDsAreCountedPerFileWithTheFirstProblem() throws {
    try parquet("a.parquet", lhs: [1, 2, 3], rel: [0, 0, 0], rhs: [4, 5, 6])
    try parquet("b.parquet", lhs: [1, 11, 2, 12], rel: [0, 0, 1, 1], rhs: [30, 5, 3, 14])
    let e = try load(data(path("*.parquet"), unknown: .skip))
    XCTAssertEqual(e.edges.count, 4)
    XCTAssertEqual(e.skippedUnknownIDs, 3)
    XCTAssertEqual(e.skipped.files.map(\.path), [path("b.parquet")])
    XCTAssertEqual(e.skipped[path("b.parquet")]?.count, 3)
    let first = try XCTUnwrap(e.skipped[path("b.parquet")]?.firstError)
    XCTAssertTrue(first.contains("b.parquet: row 0") && first.contains("rhs id 30") && first.contains("outside table \"tweet\""), first)
    XCTAssertFalse(first.contains("unknown_ids: skip"), "the fix is for the error, not the count: \(first)")
  }

  func testBadVocabulariesAreErrors() throws {
    try ParquetWriter.write(path: path("v.parquet"), columns: [("id", .int64([1, 2])), ("index", .int64([0, 10]))])
    assertTwHINError(["v.parquet", "row 1", "index 10", "outside table \"user\""]) { try Vocabulary(path: self.path("v.parquet"), table: "user", rows: 10) }
    try text("d.csv", "id\n5\n5\n")
    assertTwHINError(["d.csv", "line 3", "id 5 appears twice"]) { try Vocabulary(path: self.path("d.csv"), table: "user", rows: 10) }
  }

  func testIDsOutsideATableAreAnErrorNamingFileRowRelationAndTable() throws {
    try parquet("e.parquet", lhs: [1, 2], rel: [0, 1], rhs: [3, 12])
    assertTwHINError(["e.parquet", "row 1", "column 'rhs'", "rhs id 12", "\"follow\"", "outside table \"user\"", "0..<10"]) {
      try self.load(self.data(self.path("e.parquet")))
    }
    try text("e.csv", "lhs,rel,rhs\n-1,fav,3\n")
    assertTwHINError(["e.csv", "line 2", "lhs id -1", "outside table \"user\""]) { try self.load(self.data(self.path("e.csv"))) }
    XCTAssertEqual(try load(data(path("e.parquet"), unknown: .skip)).skippedUnknownIDs, 1)
  }

  func testUnknownRelationsAreErrors() throws {
    try parquet("e.parquet", lhs: [1, 2], rel: [0, 2], rhs: [3, 4])
    assertTwHINError(["e.parquet", "row 1", "relation id 2", "0=fav, 1=follow"]) { try self.load(self.data(self.path("e.parquet"))) }
    try text("e.csv", "lhs,rel,rhs\n1,fav,3\n1,like,3\n")
    assertTwHINError(["e.csv", "line 3", "'like'", "neither a relation id nor a relation name", "0=fav, 1=follow"]) {
      try self.load(self.data(self.path("e.csv")))
    }
    try text("n.csv", "lhs,rel,rhs\n1,fav,x3\n")
    assertTwHINError(["n.csv", "line 2", "column 'rhs'", "'x3' is not an integer"]) { try self.load(self.data(self.path("n.csv"))) }
  }

  func testEmptyFilesAreErrors() throws {
    try parquet("empty.parquet", lhs: [], rel: [], rhs: [])
    assertTwHINError(["empty.parquet", "has no edges"]) { try self.load(self.data(self.path("empty.parquet"))) }
    // Zero-row files as pyarrow writes them (an empty row group, chunks without data pages).
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/parquet")
    for name in ["empty_edges_dict.parquet", "empty_edges_plain.parquet"] {
      let file = fixtures.appendingPathComponent(name).path
      assertTwHINError([file, "has no edges", "remove it from train_data.data_root"]) { try self.load(self.data(file)) }
    }
    try text("empty.csv", "")
    assertTwHINError(["empty.csv", "the file is empty"]) { try self.load(self.data(self.path("empty.csv"))) }
    try text("header.csv", "lhs,rel,rhs\n")
    assertTwHINError(["header.csv", "has no edges"]) { try self.load(self.data(self.path("header.csv"))) }
    try Data().write(to: URL(fileURLWithPath: path("zero.parquet")))
    assertTwHINError(["zero.parquet", "too small for a Parquet file"]) { try self.load(self.data(self.path("zero.parquet"))) }
  }

  func testMissingColumnsAreErrorsListingTheFilesColumns() throws {
    try parquet("e.parquet", lhs: [1], rel: [0], rhs: [2], relName: "relation")
    assertTwHINError(["e.parquet", "no column 'rel'", "'lhs', 'relation', 'rhs'", "columns: {lhs, rel, rhs}"]) { try self.load(self.data(self.path("e.parquet"))) }
    XCTAssertEqual(try load(data(path("e.parquet"), columns: .init(rel: "relation"))).edges.count, 1)
    try text("e.csv", "lhs;rel;rhs\n1;0;2\n")
    assertTwHINError(["e.csv", "no column 'lhs'", "'lhs;rel;rhs'"]) { try self.load(self.data(self.path("e.csv"))) }
    try text("short.csv", "lhs,rel,rhs\n1,0\n")
    assertTwHINError(["short.csv", "line 2 has 2 fields", "'rhs'"]) { try self.load(self.data(self.path("short.csv"))) }
  }

  func testPathsThatCannotBeReadAreErrors() throws {
    assertTwHINError(["train_data.data_root", "cannot read gs:// paths; download the files and point data_root at them"]) {
      try self.load(self.data("gs://bucket/edges/*"))
    }
    assertTwHINError(["train_data.data_root", "does not exist"]) { try self.load(self.data(self.path("nope.parquet"))) }
    assertTwHINError(["train_data.data_root", "no files match"]) { try self.load(self.data(self.path("*.parquet"))) }
    try text("edges.orc", "x")
    assertTwHINError(["cannot tell the format", "edges.orc", "format: parquet, csv or tsv"]) { try self.load(self.data(self.path("edges.orc"))) }
  }
}
