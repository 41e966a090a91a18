import Foundation
import XCTest
@testable import ForYou
import TMLData

/// The whole demo at toy size (debug-build friendly): every artefact is written, the
/// same seed prints the same feed, and report.html holds the expected plots.
final class DemoRunTests: XCTestCase {
  static func options(seed: UInt64, out: URL) -> DemoOptions {
    var o = DemoOptions(users: 60, seed: seed, outDirectory: out)
    o.twhin.epochs = 2
    o.twhin.batchSize = 256
    o.rankerEpochs = 1
    o.rankerBatchSize = 128
    o.rankerMaxSteps = 12
    o.feedUsers = 4
    o.trainFiles = 2
    return o
  }

  static let root = FileManager.default.temporaryDirectory.appendingPathComponent("foryou-demo-\(UUID().uuidString)")

  /// One tiny run shared by the tests of this class.
  nonisolated(unsafe) static var cached: DemoResult?
  static func result() throws -> DemoResult {
    if let r = cached { return r }
    let r = try ForYouDemo(options: options(seed: 3, out: root.appendingPathComponent("a"))).run()
    cached = r
    return r
  }

  override class func tearDown() { try? FileManager.default.removeItem(at: root) }

  func testTheDemoWritesEveryArtefact() throws {
    let r = try DemoRunTests.result()
    let out = r.options.outDirectory.standardizedFileURL
    let fm = FileManager.default
    for path in ["graph/schema.json", "graph/train_edges.parquet", "graph/held_out_edges.parquet",
                 "twhin/embeddings/user.safetensors", "twhin/embeddings/author.tsv", "twhin/metrics.jsonl",
                 "segdense.json", "features.tsv", "data/train/part-0.tfrecord.gz", "data/test/part-0.tfrecord.gz",
                 "ranker_twhin.yaml", "ranker_no_twhin.yaml", "ranker_twhin/metrics.jsonl", "ranker_no_twhin/metrics.jsonl",
                 "metrics.jsonl", "feed.tsv", "report.html"] {
      XCTAssertTrue(fm.fileExists(atPath: out.appendingPathComponent(path).path), path)
    }
    for dir in ["twhin/checkpoints", "ranker_twhin/checkpoints", "ranker_twhin/tensorboard/train", "ranker_twhin/tensorboard/test"] {
      XCTAssertFalse(try fm.contentsOfDirectory(atPath: out.appendingPathComponent(dir).path).isEmpty, dir)
    }
    // The edge files read back with the project's Parquet reader.
    let edges = try ParquetFile(path: out.appendingPathComponent("graph/train_edges.parquet").path)
    let rel = try edges.readInt64Column("rel")
    XCTAssertEqual(try edges.readInt64Column("lhs").count, rel.count)
    XCTAssertEqual(Set(rel), Set(0..<5))
  }

  func testTheRunReportsMetricsFeedsAndQuality() throws {
    let r = try DemoRunTests.result()
    XCTAssertEqual(r.rankers.map(\.variant), [.withTwHIN, .withoutTwHIN])
    for ranker in r.rankers {
      XCTAssertNotNil(ranker.metrics["recap.engagement.is_favorited/auroc"])
      XCTAssertFalse(ranker.curve.isEmpty)
    }
    XCTAssertEqual(r.calibration.count, 10)
    XCTAssertEqual(r.feeds.count, 4)
    let feed = try XCTUnwrap(r.feeds.first)
    XCTAssertFalse(feed.items.isEmpty)
    XCTAssertTrue(zip(feed.items, feed.items.dropFirst()).allSatisfy { $0.score >= $1.score }, "ranked by score")
    for item in feed.items {
      XCTAssertEqual(item.contributions.reduce(0, +), item.score, accuracy: 1e-9, "contributions sum to the score")
      XCTAssertEqual(item.contributions[EngagementHead.report.rawValue], -369 * item.probabilities[EngagementHead.report.rawValue], accuracy: 1e-9)
    }
    XCTAssertEqual(r.quality.map(\.name).prefix(3), ["random", "chronological (newest first)", "popularity (most engaged first)"])
    XCTAssertEqual(r.quality.count, 6)
    XCTAssertNotNil(r.twhinGain)
    let text = DemoText.feed(feed, top: 10)
    XCTAssertTrue(text.contains("reply-engaged"))
    XCTAssertTrue(DemoText.quality(r.quality).contains("TwHIN features, paired per user"))
  }

  func testTheSameSeedPrintsTheSameFeedAndAnotherSeedAnotherOne() throws {
    let first = try DemoRunTests.result()
    let again = try ForYouDemo(options: DemoRunTests.options(seed: 3, out: DemoRunTests.root.appendingPathComponent("b"))).run()
    XCTAssertEqual(DemoText.feed(first.feeds[0], top: 10), DemoText.feed(again.feeds[0], top: 10))
    XCTAssertEqual(DemoText.quality(first.quality), DemoText.quality(again.quality))
    let other = try ForYouDemo(options: DemoRunTests.options(seed: 4, out: DemoRunTests.root.appendingPathComponent("c"))).run()
    XCTAssertNotEqual(DemoText.feed(first.feeds[0], top: 10), DemoText.feed(other.feeds[0], top: 10))
  }

  func testTheReportIsWellFormedWithFiveNonEmptyCharts() throws {
    let r = try DemoRunTests.result()
    let html = try String(contentsOfFile: r.reportPath, encoding: .utf8)
    let check = try ReportStructure(html: html)
    XCTAssertEqual(check.svgCount, 5, "quality, ranker curves, TwHIN curve, calibration, feed contributions")
    XCTAssertTrue(check.everySVGHasMarks, "every chart draws paths or bars")
    XCTAssertGreaterThanOrEqual(check.nonEmptyPaths, 5 + 10 * 2, "curves, diagonals and calibration lines")
    XCTAssertGreaterThan(check.tableRows, 20, "quality, metrics and feed tables")
    XCTAssertFalse(html.contains("<script"), "no JavaScript")
    XCTAssertFalse(html.contains("http://") && html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"),
                   "no external resources")
  }

  func testTheReportRendersInHeadlessChromium() throws {
    guard let browser = ReportStructure.chromium() else {
      throw XCTSkip("chromium is not installed; the report's structure is checked by testTheReportIsWellFormedWithFiveNonEmptyCharts")
    }
    let r = try DemoRunTests.result()
    let png = DemoRunTests.root.appendingPathComponent("report.png")
    let dom = try ReportStructure.run(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + r.reportPath])
    XCTAssertEqual(dom.components(separatedBy: "<svg").count - 1, 5, "the browser's DOM holds the five charts")
    _ = try ReportStructure.run(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1150,3600",
                                          "--screenshot=\(png.path)", "file://" + r.reportPath])
    let bytes = try Data(contentsOf: png)
    XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
    XCTAssertGreaterThan(bytes.count, 40_000, "a rendered page with plots, not a blank one")
  }
}
