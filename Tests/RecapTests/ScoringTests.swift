import Foundation
import XCTest
@testable import Recap

/// `tml recap score`'s library side: weights files and predictions files that would score
/// nothing (a misspelt head, no head columns) are errors naming what is there.
final class ScoringTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("scoring-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func write(_ name: String, _ text: String) throws -> String {
    let path = dir.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  static let fav = "recap.engagement.is_favorited", reply = "recap.engagement.is_replied"

  /// Two candidates with the favorite and reply heads, as predict writes them.
  func predictions() throws -> String {
    let columns = [Self.fav, Self.reply].flatMap { ["\($0)/logit", "\($0)/probability", "\($0)/calibrated"] }
    return try write("p.tsv", (["meta__tweet_id"] + columns).joined(separator: "\t") + "\n1\t0\t0.5\t0.5\t0\t0.1\t0.1\n2\t0\t0.2\t0.2\t0\t0.3\t0.3\n")
  }

  func assertScoreError(_ parts: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Any) {
    XCTAssertThrowsError(try body(), file: file, line: line) { e in
      XCTAssertTrue(e is ScoreError, "\(type(of: e)): \(e)", file: file, line: line)
      for p in parts { XCTAssertTrue("\(e)".contains(p), "missing \"\(p)\" in: \(e)", file: file, line: line) }
    }
  }

  func testWeightsForColumnsOverrideTheDefaults() throws {
    let table = try PredictionTable(path: try predictions())
    let score = try EngagementScore(overridesFrom: try write("w.yaml", "\(Self.reply): 2\n"))
    let rows = try table.scored(by: score)
    XCTAssertEqual(rows.map(\.ids), [["2"], ["1"]])
    XCTAssertEqual(rows[0].score, 0.5 * 0.2 + 2 * 0.3, accuracy: 1e-12)
  }

  func testWeightsNamingAHeadThatIsNotAColumnAreAnErrorListingTheHeads() throws {
    let table = try PredictionTable(path: try predictions())
    let weights = try write("w.yaml", "\(Self.fav): 1\nrecap.engagement.is_favourited: 3\n")
    let score = try EngagementScore(overridesFrom: weights)
    assertScoreError([weights, "recap.engagement.is_favourited", "no column", "p.tsv", "\(Self.fav), \(Self.reply)"]) { try table.scored(by: score) }
    // A default head the weights file sets but the model does not predict is named too.
    let video = try EngagementScore(overridesFrom: try write("v.yaml", "recap.engagement.is_video_playback_50: 1\n"))
    assertScoreError(["is_video_playback_50", "no column"]) { try table.scored(by: video) }
  }

  func testPredictionsWithNoWeightedHeadAreAnError() throws {
    let path = try write("other.tsv", "id\tmy.head/logit\tmy.head/probability\tmy.head/calibrated\n1\t0\t0.5\t0.5\n")
    let table = try PredictionTable(path: path)
    assertScoreError([path, "none of the weighted heads", "my.head", "--weights"]) { try table.scored(by: EngagementScore()) }
    let mine = try EngagementScore(overridesFrom: try write("w.yaml", "my.head: 2\n"))
    XCTAssertEqual(try table.scored(by: mine).first?.score, 1.0)
  }

  func testPredictionsWithoutHeadColumnsAreAnError() throws {
    let tsv = try write("ids.tsv", "meta__tweet_id\tscore\n1\t0.5\n")
    assertScoreError([tsv, "no head columns", "meta__tweet_id, score"]) { try PredictionTable(path: tsv) }
    let jsonl = try write("ids.jsonl", "{\"meta__tweet_id\": 1, \"score\": 0.5}\n")
    assertScoreError([jsonl, "no head columns", "meta__tweet_id, score"]) { try PredictionTable(path: jsonl) }
    let empty = try write("empty.jsonl", "")
    assertScoreError([empty, "empty"]) { try PredictionTable(path: empty) }
  }

  func testJSONLRowWithoutAHeadValueIsAnErrorNamingTheLine() throws {
    let path = try write("p.jsonl", "{\"id\": 1, \"\(Self.fav)/calibrated\": 0.5}\n{\"id\": 2}\n")
    assertScoreError(["\(path):2", "\(Self.fav)/calibrated"]) { try PredictionTable(path: path) }
  }
}
