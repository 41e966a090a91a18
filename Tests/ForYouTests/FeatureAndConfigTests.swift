import Foundation
import XCTest
@testable import ForYou
import Recap
import TMLData

/// Features are read as of the impression, the schema and configs load with the
/// project's own loaders.
final class FeatureAndConfigTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("foryou-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func testCountersSeeOnlyImpressionsRecordedBeforeTheRow() {
    let n = SocialNetwork(SimulationConfig(users: 80, seed: 2))
    var counters = EngagementCounters(n)
    var shown = [Int](repeating: 0, count: n.tweets.count)
    for imp in n.impressions.prefix(2_000) {
      let row = RankerFeatures.row(user: imp.user, tweet: imp.tweet, hour: imp.hour, network: n, counters: counters)
      XCTAssertEqual(row.continuous.count, RankerFeatures.continuousNames.count)
      XCTAssertEqual(row.binary.count, RankerFeatures.binaryNames.count)
      XCTAssertEqual(row.continuous[4], Float(shown[imp.tweet]), "tweet.impressions counts earlier impressions only")
      XCTAssertEqual(row.continuous[0], Float(imp.hour - n.tweets[imp.tweet].createdHour), accuracy: 1e-3)
      counters.record(imp)
      shown[imp.tweet] += 1
    }
  }

  func testTheSegdenseSchemaRoundTripsThroughTheDataLoader() throws {
    let url = dir.appendingPathComponent("segdense.json")
    try DemoSchema.write(try DemoSchema.schema(embeddingDim: 16), to: url)
    let schema = try SegdenseSchema(contentsOf: url)
    XCTAssertEqual(schema[DemoSchema.continuous]?.length, 48)
    XCTAssertEqual(schema[DemoSchema.binary]?.length, 7)
    XCTAssertEqual(schema[DemoSchema.userEngEmbedding]?.length, 16)
    XCTAssertEqual(schema["recap.engagement.is_report_tweet_clicked"]?.dtype, .int64List)
    XCTAssertEqual(schema.features.count, 5 + 10 + 4)
  }

  func testBothRankerConfigsLoadWithRecapRun() throws {
    try DemoSchema.write(try DemoSchema.schema(embeddingDim: 8), to: dir.appendingPathComponent("segdense.json"))
    for variant in RankerVariant.allCases {
      let file = RankerConfigFile(variant: variant, outDirectory: dir, steps: 100, batchSize: 64, learningRate: 0.002)
      let run = try RecapRun(configPath: try file.write())
      XCTAssertEqual(run.spec.tasks.map(\.name), EngagementHead.allCases.map(\.task))
      XCTAssertEqual(run.spec.continuousFeatures, 48)
      XCTAssertEqual(run.spec.binaryFeatures, 7)
      XCTAssertEqual(run.spec.userEmbeddingDim, variant == .withTwHIN ? 8 : nil)
      XCTAssertEqual(run.spec.authorEmbeddingDim, variant == .withTwHIN ? 8 : nil)
      XCTAssertEqual(run.config.training.numTrainSteps, 100)
      XCTAssertEqual(run.saveDir.path, dir.appendingPathComponent(variant.rawValue).standardizedFileURL.path)
    }
  }

  func testEngagementHeadsFollowTheScoreWeights() {
    XCTAssertEqual(EngagementHead.allCases.map(\.task), EngagementScore.defaultWeights.map(\.head))
    XCTAssertEqual(EngagementHead.report.weight, -369)
    XCTAssertEqual(EngagementHead.weightedSum([1, 0, 1, 0, 0, 0, 0, 0, 0, 0] as [Double]), 14)
  }

  func testCalibrationBinsHaveEqualCountsAndMeanRates() {
    let p = (0..<100).map { Double($0) / 100 }
    let y = p.map { $0 >= 0.5 }
    let c = CalibrationCurve(head: .favorite, predictions: p, labels: y, bins: 4)
    XCTAssertEqual(c.bins.map(\.count), [25, 25, 25, 25])
    XCTAssertEqual(c.bins.map(\.observed), [0, 0, 1, 1])
    XCTAssertEqual(c.bins[0].predicted, 0.12, accuracy: 1e-12)
  }
}
