import Foundation
import TMLData
import XCTest
@testable import TwHIN

/// `tml data movielens` and `tml data snap`: the three GroupLens rating layouts, the
/// per-user time split, the written graph and config, and bad input.
final class RatingImportTests: XCTestCase {
  var dir: URL!
  let fixtures = TwHINFixtures.directory.deletingLastPathComponent().appendingPathComponent("movielens")

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("movielens-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

  func write(_ text: String, _ name: String) throws -> String {
    let url = dir.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  /// The (lhs, rhs) ids of a written edge file, through the index files.
  func pairs(_ url: URL, _ lhsIDs: [Int64], _ rhsIDs: [Int64]) throws -> [[Int64]] {
    let c = try IntegerColumns.read(path: url.path, format: .parquet, columns: ["lhs", "rhs"])
    return (0..<c.count).map { [lhsIDs[Int(c.values[0][$0])], rhsIDs[Int(c.values[1][$0])]] }
  }

  func testTheThreeGroupLensLayoutsReadToTheSameLog() throws {
    let log = try RatingLog(path: fixture("u.data"))
    XCTAssertEqual(log.count, 19)
    XCTAssertEqual([log.user[0], log.item[0], log.timestamp[0]], [1, 10, 100])
    XCTAssertEqual(log.rating[0], 5)
    XCTAssertEqual(try RatingLog(path: fixture("ratings.dat")), log)
    XCTAssertEqual(try RatingLog(path: fixture("ratings.csv")), log)
    XCTAssertEqual(try RatingLog(path: fixture("ratings.dat"), format: .ml1m), log)
  }

  func testEachUsersLastFifthByTimeIsHeldOutWithTiesBrokenByItemID() throws {
    let log = try RatingLog(path: fixture("u.data"))
    let split = TemporalSplit(log)
    let held = split.test.map { [log.user[$0], log.item[$0]] }
    // user 1: 10 ratings → 2 held; items 18 and 19 share the last second, 19 (larger id) is last,
    // 17 (earlier) stays. user 2: 5 → 1, the latest (item 23). user 3: 4 ratings → none.
    XCTAssertEqual(Set(held), Set([[1, 18], [1, 19], [2, 23]]))
    XCTAssertEqual(split.train.count + split.test.count, log.count)
    XCTAssertTrue(Set(split.train).isDisjoint(with: split.test))
    for i in split.test {
      let later = split.train.filter { log.user[$0] == log.user[i] && (log.timestamp[$0], log.item[$0]) > (log.timestamp[i], log.item[i]) }
      XCTAssertEqual(later, [], "a training rating of user \(log.user[i]) is later than a held-out one")
    }
  }

  func testTheSplitDoesNotDependOnLineOrder() throws {
    let log = try RatingLog(path: fixture("u.data"))
    let order = Array((0..<log.count).reversed())
    let reversed = RatingLog(user: order.map { log.user[$0] }, item: order.map { log.item[$0] }, rating: order.map { log.rating[$0] },
                             timestamp: order.map { log.timestamp[$0] })
    func heldPairs(_ l: RatingLog) -> Set<[Int64]> { Set(TemporalSplit(l).test.map { [l.user[$0], l.item[$0]] }) }
    XCTAssertEqual(heldPairs(reversed), heldPairs(log))
  }

  func testImportedGraphMapsBackToTrainingRatingsAndHeldOutPositives() throws {
    let log = try RatingLog(path: fixture("ratings.csv"))
    let graph = RatingGraphImport(log: log)
    let out = dir.appendingPathComponent("tiny")
    try graph.write(to: out, name: "tiny", dim: 8)
    let users = try GraphImportFiles.readIndex(out.appendingPathComponent("users.tsv").path)
    let items = try GraphImportFiles.readIndex(out.appendingPathComponent("items.tsv").path)
    XCTAssertEqual(users, [1, 2, 3])
    let run = try TwHINRun(configPath: out.appendingPathComponent("movielens.yaml").path)
    XCTAssertEqual(run.schema.tables.map(\.name), ["user", "item"])
    XCTAssertEqual(run.schema.relations.map(\.name), ["rated"])
    let test = try XCTUnwrap(try run.loadTestData())
    XCTAssertEqual(Set((0..<test.count).map { [users[test.lhs[$0]], items[test.rhs[$0]]] }), Set([[1, 19], [2, 23]]))
    let train = try pairs(out.appendingPathComponent("train.parquet"), users, items)
    XCTAssertEqual(train.count, 16)
    XCTAssertFalse(train.contains([1, 18]))
    XCTAssertTrue(train.contains([1, 17]) && train.contains([3, 24]))
  }

  func testLikedOnlyTrainsOnRatingsOfFourOrMore() throws {
    let log = try RatingLog(path: fixture("u.data"))
    let graph = RatingGraphImport(log: log, likedOnly: true)
    XCTAssertEqual(graph.relation, "liked")
    let liked = TemporalSplit(log).train.filter { log.rating[$0] >= 4 }
    XCTAssertEqual(graph.train.count, liked.count)
    XCTAssertLessThan(graph.train.count, 16)
  }

  func testMalformedRatingLinesNameFileLineAndReason() throws {
    let cases: [(String, String, String)] = [
      ("1\t2\t3\t4\n1\t2\t3\n", "u.data", "u.data:2: expected 4 fields"),
      ("1::2::x::4\n", "ratings.dat", "ratings.dat:1: the rating 'x' is not a number"),
      ("userId,movieId,rating,timestamp\n1,2,3.5,abc\n", "ratings.csv", "ratings.csv:2: the timestamp 'abc'"),
      ("user,item,rating,ts\n1,2,3,4\n", "ratings.csv", "ratings.csv:1: expected the header"),
      ("u1\t2\t3\t4\n", "u.data", "u.data:1: the user id 'u1'"),
    ]
    for (text, name, expected) in cases {
      let path = try write(text, name)
      XCTAssertThrowsError(try RatingLog(path: path)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
    }
  }

  func testMissingFilesAndUnknownNamesAreClearErrors() throws {
    XCTAssertThrowsError(try RatingLog(path: dir.appendingPathComponent("u.data").path)) {
      XCTAssertTrue("\($0)".contains("cannot read the rating log"), "\($0)")
    }
    let odd = try write("1\t2\t3\t4\n", "ratings.txt")
    XCTAssertThrowsError(try RatingLog(path: odd)) { XCTAssertTrue("\($0)".contains("pass --format 100k, 1m or 25m"), "\($0)") }
    XCTAssertEqual(try RatingLog(path: odd, format: .ml100k).count, 1)
  }

  func testSNAPEdgesSkipCommentsAndMapBackToNodeIDs() throws {
    let graph = try SNAPImport(path: fixture("edges.txt"))
    XCTAssertEqual(graph.nodes, [5, 7, 9, 100])
    let out = dir.appendingPathComponent("snap")
    try graph.write(to: out, name: "tiny", dim: 4)
    let nodes = try GraphImportFiles.readIndex(out.appendingPathComponent("nodes.tsv").path)
    XCTAssertEqual(try pairs(out.appendingPathComponent("train.parquet"), nodes, nodes), [[5, 7], [7, 9], [9, 5], [100, 5]])
    _ = try TwHINRun(configPath: out.appendingPathComponent("snap.yaml").path)
    let bad = try write("# c\n1 2\n3\n", "bad.txt")
    XCTAssertThrowsError(try SNAPImport(path: bad)) { XCTAssertTrue("\($0)".contains("bad.txt:3: expected 2"), "\($0)") }
  }
}
