import Foundation
import Recap
import TMLTensor
import TMLData
import XCTest
@testable import TMLServe

/// `/v1/rank` against `RecapRun.predict` (the library function of `tml recap predict`)
/// on the same examples, through the real server on an ephemeral port.
final class RankParityTests: XCTestCase {
  var fixtures: ServeFixtures!

  override func setUpWithError() throws { fixtures = try ServeFixtures.get() }

  func loadedStore() throws -> ModelStore {
    let ranker = try LoadedRanker.load(configPath: fixtures.rankerConfig, checkpoint: fixtures.rankerSaveDir.path, loadNumber: 1)
    return ModelStore(ranker: ranker, twhin: nil)
  }

  /// predict's JSONL rows for the validation file, in file order.
  func predictRows() throws -> [[String: Double]] {
    let run = try RecapRun(configPath: fixtures.rankerConfig)
    let (model, _) = try run.loadModel(checkpoint: fixtures.rankerSaveDir)
    let output = fixtures.dir.appendingPathComponent("preds-\(UUID().uuidString).jsonl").path
    try run.predict(model: model, inputGlob: fixtures.validationFile, output: output)
    return try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map { line in
      let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      return obj.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }
  }

  func assertMatchesPredict(_ reply: String, expected: [[String: Double]], count: Int, file: StaticString = #filePath, line: UInt = #line) throws {
    let json = try parseJSON(reply)
    guard let candidates = json["candidates"]?.elements else { return XCTFail("no candidates in \(reply.prefix(300))", file: file, line: line) }
    XCTAssertEqual(candidates.count, count, file: file, line: line)
    let heads = json["heads"]!.elements!.map { $0.stringValue! }
    XCTAssertEqual(heads.count, 4)
    var previous = Double.infinity
    var seen = Set<Int>()
    for c in candidates {
      let i = c["index"]!.int!
      seen.insert(i)
      let score = c["score"]!.double!
      XCTAssertLessThanOrEqual(score, previous, "sorted by score", file: file, line: line)
      previous = score
      var sum = 0.0
      for h in heads {
        for column in ["logit", "probability", "calibrated"] {
          let got = c["heads"]![h]![column]!.double!
          let want = expected[i]["\(h)/\(column)"]!
          XCTAssertEqual(got, want, accuracy: 1e-6, "candidate \(i) \(h)/\(column)", file: file, line: line)
        }
        sum += c["heads"]![h]!["contribution"]?.double ?? 0
        if let w = c["heads"]![h]!["weight"]?.double {
          XCTAssertEqual(w, EngagementScore.defaultWeights.first { $0.head == h }!.weight, file: file, line: line)
          XCTAssertEqual(c["heads"]![h]!["contribution"]!.double!, w * expected[i]["\(h)/calibrated"]!, accuracy: 1e-5, file: file, line: line)
        }
      }
      XCTAssertEqual(score, sum, accuracy: 1e-9, "score = Σ contributions", file: file, line: line)
      let calibrated = Dictionary(uniqueKeysWithValues: heads.map { ($0, expected[i]["\($0)/calibrated"]!) })
      XCTAssertEqual(score, EngagementScore().score(calibrated).score, accuracy: 1e-5, "the score of tml recap score", file: file, line: line)
    }
    XCTAssertEqual(seen, Set(0..<count), file: file, line: line)
  }

  func testRankWithBase64ExamplesEqualsRecapPredict() async throws {
    let records = try fixtures.validationRecords()
    let expected = try predictRows()
    XCTAssertEqual(expected.count, records.count)
    let server = try await RunningServer.start(try loadedStore())
    let n = min(records.count, 40)
    let body = "{\"candidates\": [" + records.prefix(n).enumerated().map { i, r in
      "{\"id\": \"c\(i)\", \"example\": \"\(Data(r).base64EncodedString())\"}"
    }.joined(separator: ",") + "]}"
    let (status, reply) = try await server.call("/v1/rank", body: body)
    await server.stop()
    XCTAssertEqual(status, 200, reply)
    try assertMatchesPredict(reply, expected: expected, count: n)
  }

  func testRankWithJSONFeaturesEqualsRecapPredict() async throws {
    let records = try fixtures.validationRecords()
    let expected = try predictRows()
    let server = try await RunningServer.start(try loadedStore())
    let n = min(records.count, 40)
    let body = "{\"candidates\": [" + (try records.prefix(n).map { "{\"features\": \(try ServeFixtures.featuresJSON($0))}" }).joined(separator: ",") + "]}"
    let (status, reply) = try await server.call("/v1/rank", body: body)
    let (healthStatus, health) = try await server.call("/healthz")
    await server.stop()
    XCTAssertEqual(status, 200, String(reply.prefix(500)))
    try assertMatchesPredict(reply, expected: expected, count: n)
    XCTAssertEqual(healthStatus, 200)
    XCTAssertEqual(try parseJSON(health)["status"], .string("ok"))
  }

  func testRankWithADelimitedBinaryBodyEqualsRecapPredict() async throws {
    let records = try fixtures.validationRecords()
    let expected = try predictRows()
    try await withServer(try loadedStore()) { server in
      let body = DelimitedExamples.join(records)
      let (status, reply) = try await server.call("/v1/rank", bytes: body, contentType: DelimitedExamples.contentType)
      XCTAssertEqual(status, 200, String(reply.prefix(300)))
      try assertMatchesPredict(reply, expected: expected, count: records.count)
      let (topStatus, topReply) = try await server.call("/v1/rank?top=3", bytes: body, contentType: DelimitedExamples.contentType)
      XCTAssertEqual(topStatus, 200)
      let top = try parseJSON(topReply)
      XCTAssertEqual(top["count"]!.int, records.count)
      XCTAssertEqual(top["candidates"]!.elements!.count, 3)
      XCTAssertEqual(top["candidates"]!.elements!.map { $0["id"]! }, try parseJSON(reply)["candidates"]!.elements!.prefix(3).map { $0["id"]! })
      // A record cut short names its index and byte offset.
      let cut = Array(body.dropLast(5))
      let (bad, badReply) = try await server.call("/v1/rank", bytes: cut, contentType: DelimitedExamples.contentType)
      XCTAssertEqual(bad, 400)
      let message = try parseJSON(badReply)["error"]!["message"]!.stringValue!
      XCTAssertTrue(message.contains("record \(records.count - 1) at byte ") && message.contains("runs past the end of the body"), message)
    }
  }

  func testBF16RankEqualsRecapPredictAtBF16() async throws {
    let previous = Precision.inference
    Precision.inference = .bf16
    defer { Precision.inference = previous }
    let records = try fixtures.validationRecords()
    let bf16 = try predictRows()
    Precision.inference = .fp32
    let fp32 = try predictRows()
    Precision.inference = .bf16
    try await withServer(try loadedStore()) { server in
      let (status, reply) = try await server.call("/v1/rank", bytes: DelimitedExamples.join(records), contentType: DelimitedExamples.contentType)
      XCTAssertEqual(status, 200)
      try assertMatchesPredict(reply, expected: bf16, count: records.count)
      XCTAssertEqual(try parseJSON(reply)["model"]!["precision"], .string("bf16"))
    }
    let differs = zip(bf16, fp32).contains { a, b in a.keys.contains { k in k.hasSuffix("/logit") && abs(a[k]! - b[k]!) > 1e-6 } }
    XCTAssertTrue(differs, "bf16 arithmetic changes the logits, so the comparison above is at bf16")
  }
}
