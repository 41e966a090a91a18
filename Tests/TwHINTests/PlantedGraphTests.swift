import TMLTensor
import XCTest
@testable import TwHIN

/// The synthetic planted-interest graph (see `PlantedGraph` for its generative model).
final class PlantedGraphTests: XCTestCase {
  func testSameSeedSameGraphDifferentSeedDifferentGraph() throws {
    let a = try PlantedGraph(.small(seed: 4)), b = try PlantedGraph(.small(seed: 4)), c = try PlantedGraph(.small(seed: 5))
    XCTAssertEqual(a.train, b.train)
    XCTAssertEqual(a.heldOut, b.heldOut)
    XCTAssertNotEqual(a.train, c.train)
  }

  func testEdgesAreValidDistinctMostlyInsideTheUsersInterestsWithAHeldOutSplit() throws {
    let g = try PlantedGraph(.small(seed: 1))
    let all = g.allEdges
    XCTAssertNoThrow(try all.batches(of: 1000, schema: g.schema))
    var seen = Set<[Int]>()
    var inside = 0
    for i in 0..<all.count {
      XCTAssertTrue(seen.insert([all.lhs[i], all.relations[i], all.rhs[i]]).inserted, "duplicate edge")
      let rhsTable = g.schema.rhsTable[all.relations[i]]
      if g.interests[all.lhs[i]].contains(g.community[rhsTable][all.rhs[i]]) { inside += 1 }
    }
    // Noise is per draw and repeats are redrawn, so heavy users see a little more of it than 2 %.
    XCTAssertGreaterThan(Double(inside) / Double(all.count), 0.9)
    XCTAssertEqual(Double(g.heldOut.count) / Double(all.count), 0.1, accuracy: 0.02)
    XCTAssertEqual(Set(all.relations), [0, 1, 2, 3])
    for t in 1..<3 {
      let sizes = Dictionary(grouping: g.community[t], by: { $0 }).mapValues(\.count).values
      XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "balanced communities")
    }
    XCTAssertEqual(g.interests.map { $0[0] }, g.community[0], "a user's community is its primary interest")
    let twoInterests = Double(g.interests.filter { $0.count == 2 }.count) / Double(g.interests.count)
    XCTAssertEqual(twoInterests, 0.3, accuracy: 0.06)
  }

  func testPopularityInsideACommunityIsZipfLike() throws {
    let g = try PlantedGraph(.small(seed: 2))
    var favs = [Int](repeating: 0, count: g.config.tweets)
    for i in 0..<g.train.count where g.train.relations[i] == 1 { favs[g.train.rhs[i]] += 1 }
    // Per community: the most-faved tweet gets far more than the median one.
    var ratios: [Double] = []
    for c in 0..<g.config.communities {
      let counts = (0..<g.config.tweets).filter { g.community[2][$0] == c }.map { favs[$0] }.sorted(by: >)
      ratios.append(Double(counts[0]) / Double(max(counts[counts.count / 2], 1)))
    }
    XCTAssertGreaterThan(ratios.sorted()[ratios.count / 2], 1.8)
  }

  func testZipfSamplerAndPoissonHaveTheirMeans() {
    var rng = RandomGenerator(seed: 3)
    let cdf = PlantedGraph.zipfCDF(count: 4, exponent: 1)  // weights 1, 1/2, 1/3, 1/4 → p0 = 12/25
    XCTAssertEqual(cdf.last!, 1, accuracy: 1e-12)
    var hits = [Int](repeating: 0, count: 4)
    for _ in 0..<20_000 { hits[PlantedGraph.draw(cdf, &rng)] += 1 }
    XCTAssertEqual(Double(hits[0]) / 20_000, 12.0 / 25, accuracy: 0.015)
    XCTAssertEqual(Double(hits[3]) / 20_000, 3.0 / 25, accuracy: 0.015)
    let mean = Double((0..<20_000).map { _ in PlantedGraph.poisson(3, &rng) }.reduce(0, +)) / 20_000
    XCTAssertEqual(mean, 3, accuracy: 0.05)
  }

  func testBadConfigurationsAreErrors() {
    assertTwHINError(["communities (500)"]) { try PlantedGraph(.init(communities: 500)) }
    assertTwHINError(["degrees"]) { try PlantedGraph(.init(degrees: [1, 2])) }
    assertTwHINError(["heldOutFraction"]) { try PlantedGraph(.init(heldOutFraction: 1)) }
    assertTwHINError(["noise"]) { try PlantedGraph(.init(noise: 2)) }
    assertTwHINError(["users, authors and tweets"]) { try PlantedGraph(.init(users: 0)) }
  }
}
