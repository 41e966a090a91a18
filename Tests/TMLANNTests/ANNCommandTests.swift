import Foundation
import TMLDistributed
import XCTest

/// `tml twhin build-ann` and `tml twhin neighbors --ann` on a trained planted graph: with a
/// search breadth above the table size the listed neighbours are the exact scan's.
final class ANNCommandTests: XCTestCase {
  static var tml: String { Bundle.main.bundleURL.appendingPathComponent("tml").path }

  func tml(_ arguments: [String], in directory: URL) throws -> (status: Int32, output: String) {
    let r = try MPILauncher.runSingle(program: Self.tml, arguments: arguments, directory: directory, timeout: 120)
    return (r.status, r.output)
  }

  func testNeighborsWithTheIndexListTheExactNeighbours() throws {
    try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.tml), "\(Self.tml) is not built")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tml-ann-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    for args in [["twhin", "generate-graph", "--out", "tg", "--users", "400"],
                 ["twhin", "train", "--config", "tg/planted.yaml", "--save-dir", "ck", "--epochs", "1"]] {
      let r = try tml(args, in: dir)
      XCTAssertEqual(r.status, 0, r.output)
    }
    let missing = try tml(["twhin", "neighbors", "--config", "tg/planted.yaml", "--checkpoint", "ck", "--relation", "fav", "--lhs", "3", "--ann"], in: dir)
    XCTAssertNotEqual(missing.status, 0)
    XCTAssertTrue(missing.output.contains("tml twhin build-ann --table tweet"), missing.output)
    let built = try tml(["twhin", "build-ann", "--config", "tg/planted.yaml", "--checkpoint", "ck", "--threads", "1"], in: dir)
    XCTAssertEqual(built.status, 0, built.output)
    XCTAssertTrue(built.output.contains("tweet.hnsw"), built.output)
    let query = ["twhin", "neighbors", "--config", "tg/planted.yaml", "--checkpoint", "ck", "--relation", "fav", "--k", "10"]
    for lhs in ["0", "3", "17"] {
      let exact = try tml(query + ["--lhs", lhs], in: dir), approx = try tml(query + ["--lhs", lhs, "--ann", "--ef", "500"], in: dir)
      XCTAssertEqual(exact.status, 0, exact.output)
      XCTAssertEqual(approx.status, 0, approx.output)
      XCTAssertTrue(approx.output.contains("HNSW index, ef 500"), approx.output)
      let ranks = { (s: String) in s.split(separator: "\n").filter { $0.contains(". tweet ") }.map { $0.split(separator: " ").prefix(3).joined(separator: " ") } }
      XCTAssertEqual(ranks(approx.output), ranks(exact.output), "lhs \(lhs)")
      let pq = try tml(query + ["--lhs", lhs, "--ann", "--ann-index", "pq", "--ef", "500"], in: dir)
      XCTAssertEqual(pq.status, 0, pq.output)
      XCTAssertTrue(pq.output.contains("PQ fast scan, 500 rescored"), pq.output)
      XCTAssertEqual(ranks(pq.output), ranks(exact.output), "PQ, lhs \(lhs)")
      XCTAssertEqual(ranks(exact.output).count, 10)
    }
  }
}
