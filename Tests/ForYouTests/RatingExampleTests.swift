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

/// Candidates for re-ranking: features as of the user's split time, labels from the held-out ratings,
/// and predictions read back into a ranking.
final class RerankingTests: XCTestCase {
  let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/movielens/u.data").path

  func testCandidatesSeeOnlyRatingsBeforeTheUsersSplitTime() throws {
    let log = try RatingLog(path: fixture)
    let task = RecommendationTask(log: log)
    XCTAssertEqual(task.testUsers.map { task.users[$0] }, [1, 2])
    let item = { (id: Int64) in try XCTUnwrap(task.items.firstIndex(of: id)) }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cand-\(UUID().uuidString).tfrecord.gz").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    // user 1 splits at t = 109 (items 18, 19 held out); user 2 at t = 400 (item 23).
    XCTAssertEqual(try RatingExamples.writeCandidates(log, task: task, candidates: [[try item(19), try item(24)], [try item(23)]], to: path), 3)
    let reader = try TFRecordReader(path: path)
    var rows: [[Float]] = []
    while let bytes = try reader.next() {
      let e = try Tensorflow_Example(serializedBytes: bytes)
      let f = e.features.feature
      rows.append([Float(f["meta.user_id"]?.int64List.value.first ?? -1), Float(f["meta.item_id"]?.int64List.value.first ?? -1),
                   Float(f["is_liked"]?.int64List.value.first ?? -1), f[RatingExamples.continuous]?.floatList.value.first ?? -1,
                   f[RatingExamples.continuous]?.floatList.value[3] ?? -1])
    }
    // [user, item, is_liked, user's ratings so far, item's ratings so far]: user 1 has 8 ratings before t = 109
    // (its two held-out ones are at 109); item 24 was rated once (user 3, t = 80); user 2 had 4 before t = 400.
    XCTAssertEqual(rows, [[1, 19, 1, 8, 0], [1, 24, 0, 8, 1], [2, 23, 1, 4, 0]])
  }

  func testPredictionsRerankTheCandidates() throws {
    let log = try RatingLog(path: fixture)
    let task = RecommendationTask(log: log)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pred-\(UUID().uuidString).tsv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try "meta__item_id\tmeta__user_id\tis_liked/logit\tis_liked/probability\n19\t1\t0\t0.9\n24\t1\t0\t0.95\n20\t2\t0\t0.1\n23\t2\t0\t0.05\n"
      .write(toFile: path, atomically: true, encoding: .utf8)
    let scores = try RankerReranking.scores(predictions: path, task: task)
    let r = try RankerReranking.evaluate(task, k: 1, scores: scores)
    // user 1: 24 (0.95) before the positive 19 (0.9); user 2: 20 was rated in training, so 23 is first.
    XCTAssertEqual([r.recall, r.ndcg], [0.5, 0.5])
    let r2 = try RankerReranking.evaluate(task, k: 2, scores: scores)
    XCTAssertEqual(r2.recall, 1)
    XCTAssertEqual(r2.ndcg, (1 / log2(3.0) + 1) / 2, accuracy: 1e-12)
    try "meta__user_id\tx\n1\t2\n".write(toFile: path, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try RankerReranking.scores(predictions: path, task: task)) { XCTAssertTrue("\($0)".contains("is_liked/probability"), "\($0)") }
  }
}
