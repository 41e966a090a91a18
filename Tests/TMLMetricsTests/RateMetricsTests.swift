import TMLMetrics
import XCTest

final class RateMetricsTests: XCTestCase {
  func testMatchesReferenceOnFixtures() throws {
    for c in try MetricsFixture.load().binary {
      let r = try RateMetrics(predictions: c.floatPredictions, labels: c.floatLabels, weights: c.floatWeights)
      XCTAssertEqual(r.count, c.expected.count, c.name)
      XCTAssertEqual(r.positives, c.expected.positives, c.name)
      assertClose(r.ctr, c.expected.ctr, relative: 1e-9, "CTR of \(c.name)")
      assertClose(r.pctr, c.expected.pctr, relative: 1e-7, "pCTR of \(c.name)")
    }
  }

  func testWeightedMeans() throws {
    let r = try RateMetrics(predictions: [0.2, 0.6] as [Double], labels: [0, 1], weights: [3, 1])
    XCTAssertEqual(r.ctr!, 0.25, accuracy: 1e-15)
    XCTAssertEqual(r.pctr!, 0.3, accuracy: 1e-15)
    XCTAssertEqual(r.weightSum, 4)
    XCTAssertEqual(r.count, 2)
    XCTAssertEqual(r.positives, 1)
  }

  func testStreamingEqualsOneShot() throws {
    var rng = TestRandom(seed: 2)
    let p = rng.floats(100), y = rng.labels(100), w = rng.floats(100)
    var acc = RateAccumulator()
    for s in stride(from: 0, to: 100, by: 30) {
      let r = s..<min(s + 30, 100)
      try acc.append(predictions: Array(p[r]), labels: Array(y[r]), weights: Array(w[r]))
    }
    let one = try RateMetrics(predictions: p, labels: y, weights: w)
    XCTAssertEqual(acc.result.count, one.count)
    XCTAssertEqual(acc.result.ctr!, one.ctr!, accuracy: 1e-12)
    XCTAssertEqual(acc.result.pctr!, one.pctr!, accuracy: 1e-12)
  }

  func testNoWeightGivesNilRatesNotNaN() throws {
    let empty = RateAccumulator().result
    XCTAssertEqual(empty.count, 0)
    XCTAssertNil(empty.ctr)
    XCTAssertNil(empty.pctr)
    let zero = try RateMetrics(predictions: [0.5] as [Float], labels: [1], weights: [0])
    XCTAssertEqual(zero.count, 1)
    XCTAssertNil(zero.ctr)
  }
}
