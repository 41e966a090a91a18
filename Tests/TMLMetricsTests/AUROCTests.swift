import Foundation
import TMLMetrics
import XCTest

final class AUROCTests: XCTestCase {
  func testMatchesScikitLearnOnFixturesInFloat32() throws {
    for c in try MetricsFixture.load().definedCases {
      let a = try AUROC.compute(scores: c.floatPredictions, labels: c.floatLabels, weights: c.floatWeights)
      assertClose(a, c.expected.auroc, relative: 1e-6, "AUROC of \(c.name)")
    }
  }

  func testMatchesScikitLearnOnFixturesInFloat64() throws {
    for c in try MetricsFixture.load().definedCases {
      let a = try AUROC.compute(scores: c.predictions, labels: c.labels, weights: c.weights)
      assertClose(a, c.expected.auroc, relative: 1e-6, "AUROC of \(c.name)")
    }
  }

  func testStreamingOverChunksEqualsOneShot() throws {
    for c in try MetricsFixture.load().definedCases {
      var acc = AUROCAccumulator()
      for r in c.chunkRanges {
        try acc.append(scores: Array(c.floatPredictions[r]), labels: Array(c.floatLabels[r]), weights: c.floatWeights.map { Array($0[r]) })
      }
      let oneShot = try AUROC.compute(scores: c.floatPredictions, labels: c.floatLabels, weights: c.floatWeights)
      XCTAssertEqual(try acc.compute(), oneShot, accuracy: 1e-12, c.name)
      XCTAssertEqual(acc.count, c.predictions.count)
    }
  }

  func testMissingClassThrowsNamingTheClassInsteadOfNaN() throws {
    for c in try MetricsFixture.load().binary {
      guard let missing = c.expected.missingClass.flatMap(MetricsError.MissingClass.init(rawValue:)) else { continue }
      assertThrows(.missingClass(metric: "AUROC", missing: missing),
                   try AUROC.compute(scores: c.floatPredictions, labels: c.floatLabels, weights: c.floatWeights))
    }
  }

  func testTiesBetweenClassesCountHalf() throws {
    // One positive tied with one of two negatives, above the other: (1 + ½) / 2.
    XCTAssertEqual(try AUROC.compute(scores: [0.5, 0.5, 0.1] as [Float], labels: [1, 0, 0]), 0.75)
    // Weighted: the tied negative weighs 3, the lower one 1 → (1 + ½·3) / 4.
    XCTAssertEqual(try AUROC.compute(scores: [0.5, 0.5, 0.1] as [Float], labels: [1, 0, 0], weights: [2, 3, 1]), 0.625)
  }

  func testNegatedScoresGiveOneMinusAUROCWithoutTies() throws {
    var rng = TestRandom(seed: 7)
    let s = rng.floats(500), y = rng.labels(500), w = rng.floats(500).map { $0 + 0.1 }
    XCTAssertEqual(Set(s).count, s.count, "the property needs distinct scores")
    let a = try AUROC.compute(scores: s, labels: y, weights: w)
    let b = try AUROC.compute(scores: s.map { -$0 }, labels: y, weights: w)
    XCTAssertEqual(a, 1 - b, accuracy: 1e-12)
  }

  func testInvariantToMonotoneTransformsOfScores() throws {
    var rng = TestRandom(seed: 11)
    let s = rng.floats(400).map { Double($0) * 6 - 3 }, y = rng.labels(400).map(Double.init)
    let a = try AUROC.compute(scores: s, labels: y)
    for (name, f) in [("sigmoid", { 1 / (1 + exp(-$0)) }), ("exp", { exp($0) }), ("cube", { $0 * $0 * $0 }), ("affine", { 3 * $0 + 7 })]
      as [(String, (Double) -> Double)] {
      XCTAssertEqual(try AUROC.compute(scores: s.map(f), labels: y), a, accuracy: 1e-12, name)
    }
  }

  func testConstantScoresGiveOneHalf() throws {
    var rng = TestRandom(seed: 3)
    let y = rng.labels(300)
    XCTAssertEqual(try AUROC.compute(scores: [Float](repeating: 0.01, count: 300), labels: y, weights: rng.floats(300)), 0.5, accuracy: 1e-12)
  }

  func testPerfectPredictionsGiveOneAndInvertedZero() throws {
    var rng = TestRandom(seed: 5)
    let y = rng.labels(200)
    let perfect = y.map { $0 * 0.5 + 0.25 }
    XCTAssertEqual(try AUROC.compute(scores: perfect, labels: y), 1)
    XCTAssertEqual(try AUROC.compute(scores: perfect.map { 1 - $0 }, labels: y), 0)
  }

  func testExactAtVeryLowProbabilities() throws {
    // Scores far below Float32's resolution around 0.5 still order correctly.
    XCTAssertEqual(try AUROC.compute(scores: [1e-30, 3e-30, 2e-30, 4e-30] as [Float], labels: [0, 0, 1, 1]), 0.75)
  }

  func testInfiniteScoresStillOrder() throws {
    XCTAssertEqual(try AUROC.compute(scores: [-.infinity, .infinity, 0] as [Float], labels: [0, 1, 0]), 1)
    XCTAssertEqual(try AUROC.compute(scores: [.infinity, .infinity] as [Float], labels: [0, 1]), 0.5)
  }

  func testLabelsAreThresholdedAtHalf() throws {
    // Positive means label > threshold: {0.1, 0.9} vs {0.5} at 0.5, {0.9} vs {0.1, 0.5} at 0.7.
    XCTAssertEqual(try AUROC.compute(scores: [0.1, 0.9, 0.5] as [Float], labels: [0.6, 0.8, 0.4]), 0.5)
    XCTAssertEqual(try AUROC.compute(scores: [0.1, 0.9, 0.5] as [Float], labels: [0.6, 0.8, 0.4], labelThreshold: 0.7), 1)
  }

  func testZeroWeightExamplesAreIgnored() throws {
    let base = try AUROC.compute(scores: [0.2, 0.6, 0.4] as [Float], labels: [0, 1, 1])
    XCTAssertEqual(try AUROC.compute(scores: [0.2, 0.6, 0.4, 0.9] as [Float], labels: [0, 1, 1, 0], weights: [1, 1, 1, 0]), base)
  }

  func testEmptyInputThrowsNoExamples() {
    assertThrows(.noExamples(metric: "AUROC"), try AUROC.compute(scores: [Float](), labels: []))
    assertThrows(.noExamples(metric: "AUROC"), try AUROCAccumulator().compute())
  }

  func testNaNScoreIsRejectedWithItsIndex() {
    assertThrows(.nonFinite(what: "scores", index: 1, value: .nan), try AUROC.compute(scores: [0.1, .nan] as [Float], labels: [0, 1]))
  }

  func testBadWeightsAndLengthsAreRejected() {
    assertThrows(.negativeWeight(what: "weights", index: 0, value: -1), try AUROC.compute(scores: [0.1, 0.2] as [Float], labels: [0, 1], weights: [-1, 1]))
    assertThrows(.lengthMismatch(what: "labels", expected: 2, actual: 1), try AUROC.compute(scores: [0.1, 0.2] as [Float], labels: [0]))
    assertThrows(.lengthMismatch(what: "weights", expected: 2, actual: 3), try AUROC.compute(scores: [0.1, 0.2] as [Float], labels: [0, 1], weights: [1, 1, 1]))
  }

  func testRejectedBatchIsNotAccumulated() throws {
    var acc = AUROCAccumulator()
    try acc.append(scores: [0.1, 0.9] as [Float], labels: [0, 1])
    XCTAssertThrowsError(try acc.append(scores: [0.5, .nan] as [Float], labels: [1, 0]))
    XCTAssertEqual(acc.count, 2)
    XCTAssertEqual(try acc.compute(), 1)
  }

  func testMixedWeightedAndUnweightedBatches() throws {
    var acc = AUROCAccumulator()
    try acc.append(scores: [0.3, 0.7] as [Float], labels: [0, 1])
    try acc.append(scores: [0.5, 0.2] as [Float], labels: [0, 1], weights: [2, 4])
    let oneShot = try AUROC.compute(scores: [0.3, 0.7, 0.5, 0.2] as [Float], labels: [0, 1, 0, 1], weights: [1, 1, 2, 4])
    XCTAssertEqual(try acc.compute(), oneShot)
  }

  func testResetForgetsEverything() throws {
    var acc = AUROCAccumulator()
    try acc.append(scores: [0.1, 0.9] as [Float], labels: [0, 1])
    acc.reset()
    XCTAssertEqual(acc.count, 0)
    try acc.append(scores: [0.9, 0.1] as [Float], labels: [0, 1])
    XCTAssertEqual(try acc.compute(), 0)
  }
}
