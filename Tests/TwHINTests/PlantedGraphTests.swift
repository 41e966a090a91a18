import XCTest
@testable import TwHIN

/// The synthetic planted-community graph.
final class PlantedGraphTests: XCTestCase {
  func testSameSeedSameGraphDifferentSeedDifferentGraph() throws {
    let a = try PlantedGraph(.init(seed: 4)), b = try PlantedGraph(.init(seed: 4)), c = try PlantedGraph(.init(seed: 5))
    XCTAssertEqual(a.train, b.train)
    XCTAssertEqual(a.heldOut, b.heldOut)
    XCTAssertNotEqual(a.train, c.train)
  }

  func testEdgesAreValidDistinctMostlyIntraCommunityWithAHeldOutSplit() throws {
    let g = try PlantedGraph(.init(users: 300, communities: 8, intraCommunity: 0.9, heldOutFraction: 0.1, seed: 1))
    let all = g.allEdges
    XCTAssertNoThrow(try all.batches(of: 1000, schema: g.schema))
    var seen = Set<[Int]>()
    var inside = 0
    for i in 0..<all.count {
      XCTAssertTrue(seen.insert([all.lhs[i], all.relations[i], all.rhs[i]]).inserted, "duplicate edge")
      let rhsTable = g.schema.rhsTable[all.relations[i]]
      if g.community[0][all.lhs[i]] == g.community[rhsTable][all.rhs[i]] { inside += 1 }
    }
    let intra = Double(inside) / Double(all.count)
    XCTAssertGreaterThan(intra, 0.88)  // 0.9 + 0.1/8 expected
    let held = Double(g.heldOut.count) / Double(all.count)
    XCTAssertEqual(held, 0.1, accuracy: 0.02)
    XCTAssertEqual(Set(all.relations), [0, 1, 2, 3])
    for t in 0..<3 {
      let sizes = Dictionary(grouping: g.community[t], by: { $0 }).mapValues(\.count).values
      XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "balanced communities")
    }
  }

  func testBadConfigurationsAreErrors() {
    assertTwHINError(["communities (500)"]) { try PlantedGraph(.init(communities: 500)) }
    assertTwHINError(["degrees"]) { try PlantedGraph(.init(degrees: [1, 2])) }
    assertTwHINError(["heldOutFraction"]) { try PlantedGraph(.init(heldOutFraction: 1)) }
    assertTwHINError(["users, authors and tweets"]) { try PlantedGraph(.init(users: 0)) }
  }
}
