import Foundation
import XCTest
@testable import ForYou
import Recap
import TMLData
import TwHIN

/// MovieLens ratings as Heavy Ranker examples: features see only the past of each rating,
/// labels come from the rating, and the written data and config load with the ranker's loaders.
final class RatingExampleTests: XCTestCase {
  var dir: URL!
  let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/movielens/u.data").path

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("ml-examples-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func testAPlantedFutureRatingIsInvisibleToEarlierExamples() throws {
    let log = try RatingLog(path: fixture)
    let before = RatingFeatures.rows(log)
    // user 1 rates item 10 again and user 3 rates item 24, at t = 1000: after every rating of the log.
    var planted = log
    planted.append(user: 1, item: 10, rating: 1, timestamp: 1000)
    planted.append(user: 3, item: 24, rating: 1, timestamp: 1000)
    var after = RatingFeatures.rows(planted)
    XCTAssertEqual(Array(after.prefix(log.count)), before, "a later rating changed an earlier example's features")
    // The first planted rating sees the past: user 1's 10 ratings and item 10's 3; not the other one in its second.
    XCTAssertEqual([after[log.count].continuous[0], after[log.count].continuous[3]], [10, 3])
    XCTAssertEqual(after[log.count + 1].continuous[3], 1, "item 24 was rated once before t = 1000")
    // A rating planted at t = 200 (user 3 rates item 10 then, in the same second as user 2): invisible up to and including t = 200, seen after.
    planted = log
    planted.append(user: 3, item: 10, rating: 1, timestamp: 200)
    after = RatingFeatures.rows(planted)
    for i in 0..<log.count where log.timestamp[i] <= 200 { XCTAssertEqual(after[i], before[i], "rating at t = \(log.timestamp[i])") }
    let later = try XCTUnwrap((0..<log.count).first { log.timestamp[$0] == 250 })
    XCTAssertNotEqual(after[later].continuous[8], before[later].continuous[8], "the t = 250 rating sees the planted one in the global mean")
  }

  func testFeaturesAreTheRunningTotalsBeforeTheRating() throws {
    let log = try RatingLog(path: fixture)
    let rows = RatingFeatures.rows(log)
    // user 1's rating of item 12 at t = 102: before it, user 1 rated 5 and 3 (t 100, 101); item 12 was rated 4 by user 3 at t 70.
    let i = try XCTUnwrap((0..<log.count).first { log.user[$0] == 1 && log.item[$0] == 12 })
    let c = rows[i].continuous
    XCTAssertEqual(Array(c[0...5]), [2, 4, 0.5, 1, 4, 1])
    XCTAssertEqual(c[6], 1.0 / 86_400, accuracy: 1e-9)
    XCTAssertEqual(c[7], 32.0 / 86_400, accuracy: 1e-9)
    XCTAssertEqual(rows[i].binary, [0, 0])
    let first = try XCTUnwrap((0..<log.count).first { log.timestamp[$0] == 50 })
    XCTAssertEqual(rows[first].binary, [1, 1])
    XCTAssertEqual(rows[first].continuous, [Float](repeating: 0, count: 9))
  }

  func testWrittenExamplesCarryTheLabelsAndLoadWithRecapRun() throws {
    let log = try RatingLog(path: fixture)
    let r = try RatingExamples.write(log, to: dir, name: "tiny", steps: 10)
    XCTAssertEqual([r.train, r.test], [16, 3])
    let reader = try TFRecordReader(path: dir.appendingPathComponent("examples/test/part-0.tfrecord.gz").path)
    var seen: [[Int64]] = []
    while let bytes = try reader.next() {
      let e = try Tensorflow_Example(serializedBytes: bytes)
      func value(_ k: String) -> Int64 { e.features.feature[k]?.int64List.value.first ?? -1 }
      seen.append([value("meta.item_id"), value("is_liked"), value("is_loved")])
    }
    XCTAssertEqual(seen.sorted { $0[0] < $1[0] }, [[18, 0, 0], [19, 1, 0], [23, 1, 1]])
    let run = try RecapRun(configPath: r.config)
    XCTAssertEqual(run.spec.tasks.map(\.name), ["is_liked", "is_loved"])
    XCTAssertEqual(run.spec.continuousFeatures, 9)
    XCTAssertEqual(run.spec.binaryFeatures, 2)
  }
}
