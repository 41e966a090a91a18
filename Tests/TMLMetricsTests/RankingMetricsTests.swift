import TMLMetrics
import XCTest

final class RankingMetricsTests: XCTestCase {
  func testRankCountsStrictlyHigherCandidatesPlusHalfTheTies() throws {
    XCTAssertEqual(try Rank.realistic(score: 0.5 as Float, candidates: [0.9, 0.1, 0.2]), 2)
    XCTAssertEqual(try Rank.realistic(score: 0.5 as Float, candidates: [0.9, 0.5, 0.1]), 2.5)
    XCTAssertEqual(try Rank.realistic(score: 0.5 as Float, candidates: [0.5, 0.5, 0.5, 0.7]), 3.5)
    XCTAssertEqual(try Rank.realistic(score: 1.0 as Float, candidates: []), 1)
  }

  func testAllTiedGivesTheExpectedRankOfARandomOrder() throws {
    // n = 9 candidates tied with the true item: positions 1…10 equally likely, mean 5.5.
    XCTAssertEqual(try Rank.realistic(score: 0.0 as Double, candidates: [Double](repeating: 0, count: 9)), 5.5)
  }

  func testFilteredCandidatesDoNotCount() throws {
    let c: [Float] = [0.9, 0.5, 0.1, 0.8]
    XCTAssertEqual(try Rank.realistic(score: 0.5, candidates: c, excluding: [0]), 2.5)
    XCTAssertEqual(try Rank.realistic(score: 0.5, candidates: c, excluding: [0, 1, 3]), 1)
    XCTAssertEqual(try Rank.realistic(score: 0.5, candidates: c, excluding: [3, 3, 3]), 2.5, "repeats exclude once")
  }

  func testMRRMeanRankAndHitsOnAHandExample() throws {
    var acc = try RankingAccumulator(hitsAt: [1, 3])
    for r in [1.0, 2.0, 4.0, 1.5] { try acc.append(rank: r) }
    let s = try acc.compute()
    XCTAssertEqual(s.count, 4)
    XCTAssertEqual(s.mrr, (1 + 0.5 + 0.25 + 1 / 1.5) / 4, accuracy: 1e-15)
    XCTAssertEqual(s.meanRank, 2.125)
    XCTAssertEqual(s.hits[1], 0.25, "a tie at the top (rank 1.5) is not a Hits@1")
    XCTAssertEqual(s.hits[3], 0.75)
    XCTAssertEqual(s.dictionary["hits@3"], 0.75)
  }

  func testBatchOfInBatchNegativesMatchesFixture() throws {
    let f = try MetricsFixture.load().ranking
    var acc = try RankingAccumulator()
    try acc.append(scores: f.scores.map(Float.init), candidates: f.candidates.map(Float.init), candidatesPerItem: f.candidatesPerItem, excluded: f.excluded)
    let d = try acc.compute().dictionary
    XCTAssertEqual(Set(d.keys), Set(f.expected.keys))
    for (key, v) in f.expected { XCTAssertEqual(d[key]!, v, accuracy: 1e-12, key) }
  }

  func testPerItemRanksMatchFixture() throws {
    let f = try MetricsFixture.load().ranking
    let m = f.candidatesPerItem
    for i in f.scores.indices {
      let row = Array(f.candidates[(i * m)..<((i + 1) * m)])
      let skip = (0..<m).filter { f.excluded[i * m + $0] }
      XCTAssertEqual(try Rank.realistic(score: f.scores[i], candidates: row, excluding: skip), f.ranks[i], "item \(i)")
    }
  }

  func testBadRankInputsAreErrors() throws {
    assertThrows(.nonFinite(what: "candidate scores", index: 1, value: .nan), try Rank.realistic(score: 0 as Float, candidates: [1, .nan]))
    assertThrows(.nonFinite(what: "true score", index: 0, value: .nan), try Rank.realistic(score: Float.nan, candidates: [1]))
    XCTAssertThrowsError(try Rank.realistic(score: 0 as Float, candidates: [1], excluding: [1]))
    XCTAssertThrowsError(try RankingAccumulator(hitsAt: [0]))
    var acc = try RankingAccumulator()
    XCTAssertThrowsError(try acc.append(rank: 0.5))
    XCTAssertThrowsError(try acc.append(scores: [0, 1] as [Float], candidates: [0, 1, 2], candidatesPerItem: 2))
    assertThrows(.nonFinite(what: "candidates of item 1", index: 0, value: .nan),
                 try acc.append(scores: [0, 1] as [Float], candidates: [0, 1, .nan, 2], candidatesPerItem: 2))
    XCTAssertEqual(acc.count, 0, "a rejected batch adds no ranks")
    assertThrows(.noExamples(metric: "rank metrics"), try acc.compute())
  }

  func testSampledAUCCountsTiedPairsHalf() throws {
    XCTAssertEqual(try SampledAUC.compute(positiveScores: [2, 1] as [Float], negativeScores: [1, 0]), 0.875)
    XCTAssertEqual(try SampledAUC.compute(positiveScores: [3] as [Double], negativeScores: [1, 2]), 1)
  }

  func testSampledAUCMatchesFixtureOneShotAndStreaming() throws {
    let f = try MetricsFixture.load().sampledAuc
    XCTAssertEqual(try SampledAUC.compute(positiveScores: f.positiveScores, negativeScores: f.negativeScores), f.expected, accuracy: 1e-12)
    var acc = SampledAUCAccumulator()
    let pos = f.positiveScores.map(Float.init), neg = f.negativeScores.map(Float.init)
    try acc.append(positiveScores: Array(pos[..<100]), negativeScores: [])
    try acc.append(positiveScores: Array(pos[100...]), negativeScores: Array(neg[..<350]))
    try acc.append(positiveScores: [], negativeScores: Array(neg[350...]))
    XCTAssertEqual(try acc.compute(), f.expected, accuracy: 1e-12)
  }

  func testSampledAUCWithoutNegativesIsMissingClass() {
    assertThrows(.missingClass(metric: "sampled AUC", missing: .negative), try SampledAUC.compute(positiveScores: [1] as [Float], negativeScores: []))
  }
}
