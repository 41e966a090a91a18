import Foundation
import TMLDistributed
import XCTest
@testable import ForYou
import TMLData
import TMLTensor
import TwHIN

/// `tml data movielens-feed`: features of a candidate see only ratings before its time,
/// retrieval-aware labels come from the held-out ratings, the validation split never reads
/// the test ratings, and the command prints all four methods (and names a bad line).
final class MovieLensFeedTests: XCTestCase {
  let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/movielens/u.data").path
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("ml-feed-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  /// 36 users in 3 taste groups, 60 items in 3 genres (item % 3): each user rates all 20 items
  /// of their genre (4 or 5 stars) and 8 others (1–3 stars), in a random order, one rating a
  /// quarter day apart, users interleaved by 100 s.
  static func syntheticLog(seed: UInt64 = 1) -> RatingLog {
    var rng = RandomGenerator(seed: seed)
    var log = RatingLog()
    for u in 0..<36 {
      let own = (0..<60).filter { $0 % 3 == u % 3 }, other = (0..<60).filter { $0 % 3 != u % 3 }
      let picked = own + rng.permutation(other.count).prefix(8).map { other[$0] }
      for (k, p) in rng.permutation(picked.count).enumerated() {
        let item = picked[p]
        let rating: Float = item % 3 == u % 3 ? Float(4 + rng.int(below: 2)) : Float(1 + rng.int(below: 3))
        log.append(user: Int64(u + 1), item: Int64(item + 1), rating: rating, timestamp: Int64(10_000 + k * 21_600 + u * 100))
      }
    }
    return log
  }

  func testFeaturesOfACandidateSeeOnlyRatingsBeforeItsTime() throws {
    let log = try RatingLog(path: fixture)
    let users: [Int64] = [1, 2, 3], items = (10...24).map(Int64.init)
    var rng = RandomGenerator(seed: 4)
    let embeddings = (0..<(items.count * 4)).map { _ in rng.uniform(-1, 1) }
    func rows(_ visible: RatingLog) -> [RatingFeatures.Row] {
      FeedFeatures(visible: visible, userIDs: users, itemIDs: items, itemEmbeddings: embeddings, dim: 4).rows([
        .init(user: 0, item: 9, time: 109, retrievalScore: 0.5, retrievalRank: 3),  // user 1, item 19 at t = 109
        .init(user: 1, item: 13, time: 400, retrievalScore: -1, retrievalRank: 0),  // user 2, item 23 at t = 400
      ])
    }
    let before = rows(log)
    // user 1's ratings before 109: items 10…17 at t 100…107 (5 3 4 2 5 1 4 3); item 19 had none.
    XCTAssertEqual(Array(before[0].continuous[0...1]), [0.5, 3])
    XCTAssertEqual(Array(before[0].continuous[4...12]), [Float](repeating: 0, count: 9), "item 19 has no rating before t = 109")
    XCTAssertEqual(before[0].continuous[13], 8)
    XCTAssertEqual(before[0].continuous[14], 27.0 / 8, accuracy: 1e-6)
    XCTAssertEqual(before[0].continuous[15], 4.0 / 8, accuracy: 1e-6)
    XCTAssertEqual(before[0].continuous[16], 2.0 / 86_400, accuracy: 1e-9)
    // user 2 at t = 400: item 23 has no rating before it.
    XCTAssertEqual(Array(before[1].continuous[4...10]), [0, 0, 0, 0, 0, 0, 0])
    XCTAssertEqual(before[0].binary, [0, 1])
    // history_similarity = mean cosine of item 19 to items 10…17; recent_similarity to the last 10 (all 8 here).
    func unit(_ v: Int) -> [Float] {
      let r = Array(embeddings[(v * 4)..<(v * 4 + 4)]), n = r.reduce(0) { $0 + $1 * $1 }.squareRoot()
      return r.map { $0 / n }
    }
    let cosines = (0..<8).map { j in zip(unit(9), unit(j)).reduce(0) { $0 + $1.0 * $1.1 } }
    XCTAssertEqual(before[0].continuous[2], cosines.reduce(0, +) / 8, accuracy: 1e-5)
    XCTAssertEqual(before[0].continuous[3], before[0].continuous[2], accuracy: 1e-6)

    // Plant engagements at and after each query's time: invisible.
    var planted = log
    planted.append(user: 1, item: 19, rating: 5, timestamp: 109)   // the candidate itself, at T
    planted.append(user: 3, item: 19, rating: 5, timestamp: 150)   // another user, later
    planted.append(user: 2, item: 23, rating: 1, timestamp: 400)
    planted.append(user: 2, item: 11, rating: 2, timestamp: 900)
    XCTAssertEqual(rows(planted), before, "a rating at or after T changed a feature")
    // One second earlier, they are seen: item 19's count, recent popularity and share, user 1's history.
    planted = log
    planted.append(user: 3, item: 19, rating: 5, timestamp: 108)
    planted.append(user: 1, item: 24, rating: 1, timestamp: 108)
    let after = rows(planted)
    XCTAssertEqual(Array(after[0].continuous[4...10]), [1, 5, 1, 1, 1, 1.0 / 14, 1.0 / 14], "12 fixture ratings + 2 planted before t = 109")
    XCTAssertEqual(after[0].continuous[13], 9)
    XCTAssertNotEqual(after[0].continuous[2], before[0].continuous[2], "history now includes item 24")
    XCTAssertEqual(after[0].binary, [0, 0])
    XCTAssertEqual(Array(after[1].continuous[0...8]), Array(before[1].continuous[0...8]), "user 2's row does not involve item 19 or user 1 …")
    XCTAssertEqual(Array(after[1].continuous[11...]), Array(before[1].continuous[11...]))
    XCTAssertEqual(after[1].binary, before[1].binary)
  }

  func testRetrievalAwareLabelsComeFromTheHeldOutRatingsOfRetrievedCandidates() throws {
    let q = { (u: Int, v: Int) in FeedFeatures.Query(user: u, item: v, time: 0, retrievalScore: 0, retrievalRank: 0) }
    let labels = FeedStage.labels([q(0, 1), q(0, 2), q(0, 3), q(1, 1)], heldOut: [0: [1: 4, 2: 2]])
    XCTAssertEqual(labels.map { [$0.liked, $0.watched] }, [[true, true], [false, true], [false, false], [false, false]])

    let log = Self.syntheticLog()
    let stage = try FeedStage(log: log, candidates: 15, twhin: { var o = FeedTwHINOptions(); o.dim = 8; o.epochs = 3; o.globalNegatives = 8; return o }(), seed: 0)
    let task = stage.task
    XCTAssertEqual(task.testUsers.count, 36)
    XCTAssertEqual(stage.examples.count, 36 * 15)
    let split = TemporalSplit(log)
    var heldRating: [Int: [Int: Float]] = [:], first: [Int: Int64] = [:]
    for i in split.test {
      let u = task.users.firstIndex(of: log.user[i])!, v = task.items.firstIndex(of: log.item[i])!
      heldRating[u, default: [:]][v] = log.rating[i]
      first[u] = min(first[u] ?? .max, log.timestamp[i])
    }
    for e in stage.examples {
      let u = e.query.user, v = e.query.item
      XCTAssertFalse(task.trainItems[u].contains(v), "a candidate was rated in training")
      XCTAssertEqual(e.isLiked, (heldRating[u]?[v] ?? 0) >= 4)
      XCTAssertEqual(e.isLiked, task.positives[u].contains(v))
      XCTAssertEqual(e.isWatched, heldRating[u]?[v] != nil)
      XCTAssertEqual(e.query.time, first[u], "candidates are described at the user's split time")
    }
    XCTAssertGreaterThan(stage.examples.filter(\.isLiked).count, 0)
    XCTAssertGreaterThan(stage.examples.filter { $0.isWatched && !$0.isLiked }.count + stage.examples.filter { !$0.isWatched }.count, 0)
    // Ranks follow the retrieval scores; the visible log is exactly the training ratings.
    for list in stage.candidates { XCTAssertEqual(list.map(\.score), list.map(\.score).sorted(by: >)) }
    XCTAssertEqual(stage.visible.count, split.train.count)
    XCTAssertEqual(stage.candidateRecall, zip(task.testUsers, stage.candidates).reduce(0.0) { acc, uc in
      acc + Double(uc.1.filter { task.positives[uc.0].contains($0.item) }.count) / Double(task.positives[uc.0].count)
    } / 36, accuracy: 1e-12)
  }

  func quickOptions(validationOnly: Bool = false) -> MovieLensFeed.Options {
    var o = MovieLensFeed.Options()
    (o.candidates, o.rankerSteps, o.bprEpochs, o.validationOnly) = (15, 40, 5, validationOnly)
    (o.twhin.dim, o.twhin.epochs, o.twhin.globalNegatives) = (8, 3, 8)
    return o
  }

  func testTheFeedReportsAllFourMethodsAndTheValidationSplitNeverReadsTheTestRatings() throws {
    let log = Self.syntheticLog()
    let r = try MovieLensFeed.run(log, options: quickOptions(), directory: dir.appendingPathComponent("test"))
    XCTAssertEqual(r.rows.map(\.name), ["popularity", "BPR", "TwHIN", "feed"])
    XCTAssertEqual(r.split, "test")
    for row in r.rows {
      XCTAssertEqual(row.result.users, 36)
      XCTAssertTrue((0...1).contains(row.result.ndcg) && (0...1).contains(row.result.recall), "\(row.name): \(row.result)")
    }
    XCTAssertEqual(r.testExamples, 36 * 15)
    XCTAssertGreaterThan(r.trainPositives, 0)
    XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("test/examples/train/part-0.tfrecord.gz").path))
    XCTAssertGreaterThan(r.rows[2].result.ndcg, r.rows[0].result.ndcg, "TwHIN finds the taste groups, popularity cannot")

    // Validation: scramble every test rating (items and stars): the validation numbers do not move.
    let v = try MovieLensFeed.run(log, options: quickOptions(validationOnly: true), directory: dir.appendingPathComponent("v1"))
    var scrambled = log
    for i in TemporalSplit(log).test {
      scrambled.item[i] = (scrambled.item[i] + 17) % 60 + 1
      scrambled.rating[i] = 6 - scrambled.rating[i]
    }
    XCTAssertEqual(scrambled.subset(TemporalSplit(scrambled).train), log.subset(TemporalSplit(log).train), "only the test part changed")
    let w = try MovieLensFeed.run(scrambled, options: quickOptions(validationOnly: true), directory: dir.appendingPathComponent("v2"))
    XCTAssertEqual(v.split, "validation")
    XCTAssertEqual(v.rows.map(\.result), w.rows.map(\.result))
    XCTAssertEqual(v.rows[0].result.users, RecommendationTask(log: log.subset(TemporalSplit(log).train)).testUsers.count)
  }

  func testTheCommandPrintsEveryMethodAndNamesTheFileAndLineOfABadRating() throws {
    let tml = Bundle.main.bundleURL.appendingPathComponent("tml")
    guard FileManager.default.isExecutableFile(atPath: tml.path) else { throw XCTSkip("\(tml.path) is not built") }
    func run(_ args: [String]) throws -> (status: Int32, output: String) {
      let r = try MPILauncher.runSingle(program: tml.path, arguments: args, timeout: 300)
      return (r.status, r.output)
    }
    let log = Self.syntheticLog()
    let data = dir.appendingPathComponent("u.data")
    try (0..<log.count).map { "\(log.user[$0])\t\(log.item[$0])\t\(Int(log.rating[$0]))\t\(log.timestamp[$0])\n" }.joined()
      .write(to: data, atomically: true, encoding: .utf8)
    let ok = try run(["data", "movielens-feed", "--ratings", data.path, "--out", dir.appendingPathComponent("out").path, "--candidates", "15",
                      "--ranker-steps", "40", "--bpr-epochs", "5", "--twhin-dim", "8", "--twhin-epochs", "3", "--twhin-negatives", "8"])
    XCTAssertEqual(ok.status, 0, ok.output)
    for name in ["popularity", "BPR", "TwHIN", "feed"] {
      XCTAssertNotNil(ok.output.range(of: "\(name) +Recall@10 0\\.\\d{4}  NDCG@10 0\\.\\d{4}", options: .regularExpression), "\(name) row missing:\n\(ok.output)")
    }
    let bad = dir.appendingPathComponent("bad.data")
    try "1\t10\t5\t100\n1\t11\t3\t101\n1\tx\t4\t102\n".write(to: bad, atomically: true, encoding: .utf8)
    let failed = try run(["data", "movielens-feed", "--ratings", bad.path, "--out", dir.appendingPathComponent("bad").path])
    XCTAssertNotEqual(failed.status, 0)
    XCTAssertTrue(failed.output.contains("bad.data:3: the item id 'x' is not an integer"), failed.output)
    // The 19-rating fixture: too few ratings per user for the inner split to have a positive.
    let tiny = try run(["data", "movielens-feed", "--ratings", fixture, "--out", dir.appendingPathComponent("tiny").path])
    XCTAssertNotEqual(tiny.status, 0)
    XCTAssertTrue(tiny.output.contains("the ranker has no positive example"), tiny.output)
    let unwritable = try run(["data", "movielens-feed", "--ratings", data.path, "--out", data.appendingPathComponent("sub").path])
    XCTAssertTrue(unwritable.output.contains("u.data/sub: cannot create the output directory"), unwritable.output)
    let sides = try run(["data", "movielens-feed", "--ratings", data.path, "--out", dir.path, "--twhin-negative-sides", "tail"])
    XCTAssertNotEqual(sides.status, 0)
    XCTAssertTrue(sides.output.contains("--twhin-negative-sides tail: use rhs or both"), sides.output)
  }
}
