import TMLTensor
import XCTest
@testable import TwHIN

/// Exact top-k retrieval and its heap.
final class TwHINNeighborsTests: XCTestCase {
  func testTopKKeepsTheBestInOrderWithDeterministicTies() {
    var top = TopK(k: 3)
    for (id, s) in [(0, 0.1), (1, 0.9), (2, 0.5), (3, 0.9), (4, -1), (5, .nan), (6, 0.5)] as [(Int, Float)] { top.offer(id: id, score: s) }
    XCTAssertEqual(top.sorted(), [Neighbor(id: 1, score: 0.9), Neighbor(id: 3, score: 0.9), Neighbor(id: 2, score: 0.5)])
    var none = TopK(k: 0)
    none.offer(id: 1, score: 1)
    XCTAssertEqual(none.sorted(), [])
  }

  func testNeighborsEqualASortOfEveryExactScore() throws {
    let g = try PlantedGraph(.init(users: 30, authors: 10, tweets: 70, communities: 2, degrees: [2, 3, 1, 1], seed: 3))
    let model = try TwHINModel(schema: g.schema, dim: 6, embeddingInit: .normal(std: 0.4), seed: 1)
    let lists = try model.neighbors(lhs: [0, 5, 29], relation: 1, k: 12)
    for (i, u) in [0, 5, 29].enumerated() {
      let all = try (0..<70).map { Neighbor(id: $0, score: try model.score(lhs: u, relation: 1, rhs: $0)) }
      let want = all.sorted { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }.prefix(12)
      XCTAssertEqual(lists[i].map(\.id), want.map(\.id), "user \(u)")
      for (a, b) in zip(lists[i], want) { XCTAssertEqual(a.score, b.score, accuracy: 1e-5) }
    }
    XCTAssertEqual(try model.neighbors(lhs: 5, relation: "fav", k: 12), lists[1])
    XCTAssertEqual(try model.neighbors(lhs: 5, relation: 1, k: 500).count, 70, "k beyond the table gives every row")
  }

  func testExcludingKnownEdgesDropsThemAndKeepsK() throws {
    let g = try PlantedGraph(.init(users: 30, authors: 10, tweets: 70, communities: 2, degrees: [2, 6, 1, 1], seed: 3))
    let model = try TwHINModel(schema: g.schema, dim: 6, embeddingInit: .normal(std: 0.4), seed: 1)
    let known = KnownEdges([g.train])
    let u = g.train.lhs[g.train.relations.firstIndex(of: 1)!]
    let seen = known.rhs(lhs: u, relation: 1)
    XCTAssertFalse(seen.isEmpty)
    let fresh = try model.neighbors(lhs: u, relation: 1, k: 10, excluding: known)
    XCTAssertEqual(fresh.count, 10)
    XCTAssertTrue(fresh.allSatisfy { !seen.contains($0.id) })
    let all = try model.neighbors(lhs: u, relation: 1, k: 70)
    XCTAssertEqual(fresh.map(\.id), Array(all.map(\.id).filter { !seen.contains($0) }.prefix(10)))
  }
}
