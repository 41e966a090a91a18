import Foundation
import TMLMetrics
import XCTest

final class CrossEntropyMetricsTests: XCTestCase {
  func testRCEMatchesReferenceOnFixtures() throws {
    for c in try MetricsFixture.load().definedCases {
      assertClose(try RCE.compute(predictions: c.floatPredictions, labels: c.floatLabels, weights: c.floatWeights),
                  c.expected.rce, relative: 1e-4, "RCE (Float) of \(c.name)")
      assertClose(try RCE.compute(predictions: c.predictions, labels: c.labels, weights: c.weights),
                  c.expected.rce, relative: 1e-4, "RCE (Double) of \(c.name)")
    }
  }

  func testNRCEMatchesReferenceOnFixtures() throws {
    for c in try MetricsFixture.load().definedCases {
      assertClose(try NRCE.compute(predictions: c.floatPredictions, labels: c.floatLabels, weights: c.floatWeights),
                  c.expected.nrce, relative: 1e-4, "NRCE (Float) of \(c.name)")
      assertClose(try NRCE.compute(predictions: c.predictions, labels: c.labels, weights: c.weights),
                  c.expected.nrce, relative: 1e-4, "NRCE (Double) of \(c.name)")
    }
  }

  func testStreamingRCEAndGlobalNRCEOverChunksEqualOneShot() throws {
    for c in try MetricsFixture.load().definedCases {
      var rce = RCEAccumulator(), nrce = NRCEAccumulator()
      for r in c.chunkRanges {
        let p = Array(c.floatPredictions[r]), y = Array(c.floatLabels[r]), w = c.floatWeights.map { Array($0[r]) }
        try rce.append(predictions: p, labels: y, weights: w)
        try nrce.append(predictions: p, labels: y, weights: w)
      }
      let oneShotRCE = try RCE.compute(predictions: c.floatPredictions, labels: c.floatLabels, weights: c.floatWeights)
      let oneShotNRCE = try NRCE.compute(predictions: c.floatPredictions, labels: c.floatLabels, weights: c.floatWeights)
      XCTAssertEqual(try rce.compute(), oneShotRCE, accuracy: 1e-9 * max(1, abs(oneShotRCE)), c.name)
      XCTAssertEqual(try nrce.compute(), oneShotNRCE, accuracy: 1e-9 * max(1, abs(oneShotNRCE)), c.name)
    }
  }

  func testRunningNRCEReproducesTheOriginalsPerBatchNormaliser() throws {
    for c in try MetricsFixture.load().definedCases {
      var acc = NRCEAccumulator(normalization: .runningPerBatch)
      for r in c.chunkRanges {
        try acc.append(predictions: Array(c.floatPredictions[r]), labels: Array(c.floatLabels[r]), weights: c.floatWeights.map { Array($0[r]) })
      }
      assertClose(try acc.compute(), c.expected.nrceRunning, relative: 1e-4, "running NRCE of \(c.name)")
    }
  }

  func testConstantMeanLabelPredictorHasZeroRCE() throws {
    var rng = TestRandom(seed: 21)
    let y = rng.labels(1000, rate: 0.2), w = rng.floats(1000).map { $0 + 0.5 }
    let mean = zip(y, w).reduce(0.0) { $0 + Double($1.0 * $1.1) } / w.reduce(0.0) { $0 + Double($1) }
    let r = try RCE.compute(predictions: [Double](repeating: mean, count: 1000), labels: y.map(Double.init), weights: w.map(Double.init))
    XCTAssertEqual(r, 0, accuracy: 1e-9)
  }

  func testPerfectPredictionsGiveHundred() throws {
    let y: [Float] = [0, 1, 1, 0, 0, 1]
    XCTAssertEqual(try RCE.compute(predictions: y, labels: y), 100, accuracy: 1e-4)
    XCTAssertEqual(try RCE.compute(predictions: y.map { $0 * 0.98 + 0.01 }, labels: y), 98.5, accuracy: 1)
  }

  func testWorseThanConstantIsNegative() throws {
    XCTAssertLessThan(try RCE.compute(predictions: [0.9, 0.1, 0.9, 0.9] as [Float], labels: [0, 1, 0, 0]), 0)
  }

  func testNRCEIgnoresAGlobalScaleOfPredictions() throws {
    var rng = TestRandom(seed: 8)
    let p = rng.floats(500).map { Double($0) * 0.2 + 0.01 }, y = rng.labels(500, rate: 0.1).map(Double.init)
    let a = try NRCE.compute(predictions: p, labels: y), b = try NRCE.compute(predictions: p.map { $0 * 2.5 }, labels: y)
    XCTAssertEqual(a, b, accuracy: 1e-9)
    // …whereas RCE punishes the miscalibration.
    XCTAssertGreaterThan(abs(try RCE.compute(predictions: p, labels: y) - RCE.compute(predictions: p.map { $0 * 2.5 }, labels: y)), 1)
  }

  func testWeightsActLikeRepetition() throws {
    let weighted = try RCE.compute(predictions: [0.2, 0.7, 0.4] as [Float], labels: [0, 1, 1], weights: [3, 1, 2])
    let repeated = try RCE.compute(predictions: [0.2, 0.2, 0.2, 0.7, 0.4, 0.4] as [Float], labels: [0, 0, 0, 1, 1, 1])
    XCTAssertEqual(weighted, repeated, accuracy: 1e-9)
  }

  func testMissingClassThrowsInsteadOfInfinity() throws {
    for c in try MetricsFixture.load().binary {
      guard let missing = c.expected.missingClass.flatMap(MetricsError.MissingClass.init(rawValue:)) else { continue }
      assertThrows(.missingClass(metric: "RCE", missing: missing),
                   try RCE.compute(predictions: c.floatPredictions, labels: c.floatLabels, weights: c.floatWeights))
      assertThrows(.missingClass(metric: "NRCE", missing: missing),
                   try NRCE.compute(predictions: c.floatPredictions, labels: c.floatLabels, weights: c.floatWeights))
    }
  }

  func testNRCEWithAllZeroPredictionsIsUndefined() {
    XCTAssertThrowsError(try NRCE.compute(predictions: [0, 0] as [Float], labels: [0, 1])) { error in
      guard case .undefined(metric: "NRCE", _)? = error as? MetricsError else { return XCTFail("\(error)") }
    }
    var running = NRCEAccumulator(normalization: .runningPerBatch)
    XCTAssertNoThrow(try running.append(predictions: [0, 0] as [Float], labels: [0, 1]))
    XCTAssertThrowsError(try running.compute())
  }

  func testEmptyInputThrowsNoExamples() {
    assertThrows(.noExamples(metric: "RCE"), try RCE.compute(predictions: [Float](), labels: []))
    assertThrows(.noExamples(metric: "NRCE"), try NRCE.compute(predictions: [Float](), labels: []))
    assertThrows(.noExamples(metric: "RCE"), try RCEAccumulator().compute())
    assertThrows(.noExamples(metric: "NRCE"), try NRCEAccumulator(normalization: .runningPerBatch).compute())
  }

  func testNonFinitePredictionsAreRejected() {
    assertThrows(.nonFinite(what: "predictions", index: 0, value: .nan), try RCE.compute(predictions: [.nan, 0.5] as [Float], labels: [0, 1]))
    assertThrows(.nonFinite(what: "predictions", index: 1, value: .infinity), try NRCE.compute(predictions: [0.5, .infinity] as [Float], labels: [0, 1]))
    assertThrows(.nonFinite(what: "labels", index: 1, value: .nan), try RCE.compute(predictions: [0.5, 0.5] as [Float], labels: [0, .nan]))
  }

  func testCrossEntropyIsTheWeightedMeanClippedLoss() throws {
    var acc = RCEAccumulator()
    try acc.append(predictions: [0, 0.5] as [Float], labels: [1, 1], weights: [1, 3])
    let eps = 1e-7
    let expected = (-log(eps + eps) + 3 * -log(0.5 + eps)) / 4
    XCTAssertEqual(acc.crossEntropy!, expected, accuracy: 1e-12)
  }
}
