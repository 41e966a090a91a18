import Foundation
import TMLMetrics
import XCTest

final class TaskMetricsTests: XCTestCase {
  func testBinaryClassificationDictionaryMatchesFixtures() throws {
    for c in try MetricsFixture.load().binary {
      var m = BinaryClassificationMetrics()
      for r in c.chunkRanges {
        try m.append(predictions: Array(c.floatPredictions[r]), labels: Array(c.floatLabels[r]), weights: c.floatWeights.map { Array($0[r]) })
      }
      let d = m.compute().dictionary
      assertClose(d["auroc"], c.expected.auroc, relative: 1e-6, "auroc of \(c.name)")
      assertClose(d["rce"], c.expected.rce, relative: 1e-4, "rce of \(c.name)")
      assertClose(d["nrce"], c.expected.nrce, relative: 1e-4, "nrce of \(c.name)")
      assertClose(d["ctr"], c.expected.ctr, relative: 1e-9, "ctr of \(c.name)")
      assertClose(d["pctr"], c.expected.pctr, relative: 1e-7, "pctr of \(c.name)")
      XCTAssertEqual(d["count"], Double(c.expected.count), c.name)
      XCTAssertEqual(d["positives"], c.expected.positives, c.name)
    }
  }

  func testUndefinedMetricsAreLeftOutWithTheirReason() throws {
    var m = BinaryClassificationMetrics()
    try m.append(predictions: [0.1, 0.4] as [Float], labels: [0, 0])
    let r = m.compute()
    XCTAssertEqual(Set(r.dictionary.keys), ["count", "positives", "ctr", "pctr"])
    XCTAssertEqual(r.errors["auroc"], .missingClass(metric: "AUROC", missing: .positive))
    XCTAssertEqual(r.errors["rce"], .missingClass(metric: "RCE", missing: .positive))
    XCTAssertFalse(r.dictionary.values.contains { $0.isNaN || $0.isInfinite })
  }

  func testComputeOnNothingDoesNotTrap() {
    let r = BinaryClassificationMetrics().compute()
    XCTAssertEqual(r.dictionary, ["count": 0, "positives": 0])
    XCTAssertEqual(r.errors["auroc"], .noExamples(metric: "AUROC"))
  }

  func testStratifiedMultiTaskMatchesFixture() throws {
    let f = try MetricsFixture.load().stratified
    var m = try MultiTaskMetrics(taskNames: f.tasks, stratifiers: f.stratifiers)
    let t = f.tasks.count, width = f.discreteWidth
    var start = 0
    for size in f.chunks {
      let cells = (start * t)..<((start + size) * t)
      try m.append(
        probabilities: f.probabilities[cells].map(Float.init), labels: f.labels[cells].map(Float.init),
        weights: f.weights[cells].map(Float.init),
        discreteFeatures: Array(f.discrete[(start * width)..<((start + size) * width)]), discreteWidth: width)
      start += size
    }
    XCTAssertEqual(start, f.batchSize)
    let d = m.compute().dictionary
    XCTAssertEqual(Set(d.keys), Set(f.expected.keys))
    for (key, expected) in f.expected {
      let tolerance = key.hasSuffix("auroc") ? 1e-6 : 1e-4
      assertClose(d[key], expected, relative: tolerance, key)
    }
  }

  /// The original's `test_stratified_ctr`: rows 0 and 2 have level 9; task 1's labels there are 1 and 3.
  func testStratifiedCTRAsTheOriginalsTest() throws {
    var m = try MultiTaskMetrics(taskNames: ["a", "b", "c", "d"], stratifiers: [StratifierConfig(name: "level", index: 0, value: 9)])
    let labels: [Float] = [0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 0]
    try m.append(probabilities: [Float](repeating: 0.5, count: 12), labels: labels, discreteFeatures: [9, 0, 9], discreteWidth: 1)
    let d = m.compute().dictionary
    XCTAssertEqual(d["b/level_9/ctr"], 2)
    XCTAssertEqual(d["b/level_9/count"], 2)
    XCTAssertEqual(d["b/ctr"], 2)
    XCTAssertNil(d["b/level_9/rce"], "labels above 1 leave RCE undefined, not NaN")
  }

  func testPerExampleWeightsApplyToEveryTask() throws {
    var a = try MultiTaskMetrics(taskNames: ["x", "y"]), b = try MultiTaskMetrics(taskNames: ["x", "y"])
    let p: [Float] = [0.2, 0.7, 0.6, 0.1, 0.4, 0.5], y: [Float] = [0, 1, 1, 0, 0, 1]
    try a.append(probabilities: p, labels: y, weights: [1, 2, 3])
    try b.append(probabilities: p, labels: y, weights: [1, 1, 2, 2, 3, 3])
    XCTAssertEqual(a.compute(), b.compute())
  }

  func testStratumWithoutRowsReportsOnlyCounts() throws {
    var m = try StratifiedBinaryClassificationMetrics(stratifiers: [StratifierConfig(name: "video", index: 1, value: 1)])
    try m.append(predictions: [0.3, 0.8] as [Float], labels: [0, 1], discreteFeatures: [5, 0, 6, 0], discreteWidth: 2)
    let d = m.compute().dictionary()
    XCTAssertEqual(d["video_1/count"], 0)
    XCTAssertNil(d["video_1/auroc"])
    XCTAssertEqual(d["auroc"], 1)
  }

  func testMissingDiscreteFeaturesIsAnError() throws {
    var m = try StratifiedBinaryClassificationMetrics(stratifiers: [StratifierConfig(name: "level", index: 0, value: 1)])
    XCTAssertThrowsError(try m.append(predictions: [0.5] as [Float], labels: [1]))
    XCTAssertEqual(m.overall.count, 0, "a rejected batch is added to nothing")
  }

  func testStratifierColumnOutsideTheFeaturesIsAnError() throws {
    var m = try StratifiedBinaryClassificationMetrics(stratifiers: [StratifierConfig(name: "level", index: 3, value: 1)])
    XCTAssertThrowsError(try m.append(predictions: [0.5] as [Float], labels: [1], discreteFeatures: [1, 2], discreteWidth: 2)) { e in
      XCTAssertTrue("\(e)".contains("column 3"), "\(e)")
    }
    XCTAssertThrowsError(try m.append(predictions: [0.5, 0.1] as [Float], labels: [1, 0], discreteFeatures: [1, 2, 3], discreteWidth: 4))
  }

  func testInvalidConfigurationsAreRejected() {
    XCTAssertThrowsError(try MultiTaskMetrics(taskNames: []))
    XCTAssertThrowsError(try MultiTaskMetrics(taskNames: ["a", "a"]))
    XCTAssertThrowsError(try StratifiedBinaryClassificationMetrics(stratifiers: [.init(name: "l", index: -1, value: 0)]))
    XCTAssertThrowsError(try StratifiedBinaryClassificationMetrics(stratifiers: [.init(name: "l", index: 0, value: 0), .init(name: "l", index: 1, value: 0)]))
  }

  func testBadValueInOneTaskRejectsTheWholeBatch() throws {
    var m = try MultiTaskMetrics(taskNames: ["fav", "reply"])
    XCTAssertThrowsError(try m.append(probabilities: [0.1, 0.2, 0.3, .nan], labels: [0, 1, 1, 0])) { e in
      XCTAssertEqual(e as? MetricsError, .nonFinite(what: "probabilities of task 'reply'", index: 1, value: .nan))
    }
    XCTAssertEqual(m.tasks[0].overall.count, 0)
    XCTAssertThrowsError(try m.append(probabilities: [0.1, 0.2, 0.3], labels: [0, 1, 1]))
    XCTAssertThrowsError(try m.append(probabilities: [0.1, 0.2], labels: [0, 1], weights: [1, 1, 1]))
  }

  func testStratifierConfigDecodesTheOriginalSchema() throws {
    let ok = try JSONDecoder().decode([StratifierConfig].self, from: Data(#"[{"name": "level", "index": 2, "value": 9}]"#.utf8))
    XCTAssertEqual(ok, [StratifierConfig(name: "level", index: 2, value: 9)])
    XCTAssertEqual(ok[0].key, "level_9")
    XCTAssertThrowsError(try JSONDecoder().decode(StratifierConfig.self, from: Data(#"{"name": "l", "index": 2, "value": 9, "vaule": 1}"#.utf8))) { e in
      XCTAssertTrue("\(e)".contains("vaule"), "\(e)")
    }
    XCTAssertThrowsError(try JSONDecoder().decode(StratifierConfig.self, from: Data(#"{"name": "l", "index": 2}"#.utf8)))
  }
}
