import XCTest
@testable import ForYou

/// NDCG@k normalised between the worst and the best ordering, for signed gains.
final class NDCGTests: XCTestCase {
  func testTheIdealOrderScoresOneAndTheWorstZero() throws {
    let gains = [3.0, 0, -74, 13.5, 0.5]
    let best = NDCG.order(byDescending: gains)
    XCTAssertEqual(try XCTUnwrap(NDCG.at(10, gains: gains, order: best)), 1, accuracy: 1e-12)
    XCTAssertEqual(try XCTUnwrap(NDCG.at(10, gains: gains, order: best.reversed())), 0, accuracy: 1e-12)
    XCTAssertEqual(try XCTUnwrap(NDCG.at(10, gains: [3, 0, -74], order: [0, 1, 2])), 1, accuracy: 1e-12)
  }

  func testAMiddleOrderLiesStrictlyBetween() throws {
    let v = try XCTUnwrap(NDCG.at(2, gains: [1, 0, 2], order: [0, 1, 2]))
    // DCG = 1, best = 2 + 1/log2(3), worst = 0 + 1/log2(3)
    let best = 2 + 1 / log2(3.0), worst = 1 / log2(3.0)
    XCTAssertEqual(v, (1 - worst) / (best - worst), accuracy: 1e-12)
  }

  func testEqualGainsAreUndefined() {
    XCTAssertNil(NDCG.at(10, gains: [0, 0, 0], order: [0, 1, 2]))
    XCTAssertNil(NDCG.at(10, gains: [], order: []))
  }

  func testOrderByDescendingKeepsIndexOrderOnTies() {
    XCTAssertEqual(NDCG.order(byDescending: [1, 3, 3, 0]), [1, 2, 0, 3])
  }

  func testTheQualityTableRanksAnOracleFirstAndRandomNearItsExpectation() {
    var held: [HeldOutImpression] = []
    for u in 0..<200 {
      for i in 0..<20 {
        let e = Double((u * 7 + i * 13) % 17) - 5
        held.append(HeldOutImpression(id: u * 20 + i, user: u, tweet: i, createdHour: Double(i), popularity: Float(i % 3),
                                      realisedUtility: e, expectedUtility: e, engagements: 0))
      }
    }
    let perfect = Dictionary(uniqueKeysWithValues: held.map { h in
      (h.id, EngagementHead.allCases.map { $0 == .favorite ? Float(h.expectedUtility + 10) : 0 })
    })
    let rows = RankingQuality.evaluate(held, scores: [("perfect", perfect)], seed: 1)
    XCTAssertEqual(rows.map(\.name).first, "random")
    let oracle = rows.last!, ranker = rows.first { $0.name.hasSuffix("perfect") }!, random = rows[0]
    XCTAssertEqual(oracle.expected, 1, accuracy: 1e-12)
    XCTAssertEqual(ranker.expected, 1, accuracy: 1e-12)
    XCTAssertLessThan(random.expected, 0.8)
    XCTAssertGreaterThan(random.expected, 0.2)
    XCTAssertEqual(ranker.pairedDifference(random, expected: true).mean, 1 - random.expected, accuracy: 1e-9)
  }
}
