import Foundation
import TMLData
import XCTest
@testable import TMLServe

/// Each kind of bad input gets its status and a message naming the problem, through the
/// real server; and a ranker that is still loading answers 503.
final class BadInputTests: XCTestCase {
  var fixtures: ServeFixtures!

  override func setUpWithError() throws { fixtures = try ServeFixtures.get() }

  func rankerStore() throws -> ModelStore {
    ModelStore(ranker: try LoadedRanker.load(configPath: fixtures.rankerConfig, checkpoint: fixtures.rankerSaveDir.path, loadNumber: 1), twhin: nil)
  }

  func message(_ reply: String) throws -> String {
    let json = try parseJSON(reply)
    return json["error"]?["message"]?.stringValue ?? "<no error message in \(reply)>"
  }

  /// A valid candidate as JSON features (validation record `i`).
  func candidate(_ i: Int) throws -> String { #"{"features": \#(try ServeFixtures.featuresJSON(try fixtures.validationRecords()[i]))}"# }

  func testMalformedJSONIsA400WithTheParsePosition() async throws {
    try await withServer(try rankerStore()) { server in
      let (status, reply) = try await server.call("/v1/rank", body: "{\"candidates\": [\n  {\"features\": {,}}]}")
      XCTAssertEqual(status, 400)
      let m = try message(reply)
      XCTAssertTrue(m.contains("malformed JSON at byte 33 (line 2, column 17)"), m)
      let (s2, r2) = try await server.call("/v1/rank", body: "")
      XCTAssertEqual(s2, 400)
      XCTAssertTrue(try message(r2).contains("at byte 0"), r2)
    }
  }

  func testBodyOverTheLimitIsA413() async throws {
    var options = ServeOptions()
    options.maxBodyBytes = 4096
    try await withServer(try rankerStore(), options: options) { server in
      let body = #"{"candidates": [\#(Array(repeating: try candidate(0), count: 30).joined(separator: ","))]}"#
      XCTAssertGreaterThan(body.utf8.count, 4096)
      let (status, reply) = try await server.call("/v1/rank", body: body)
      XCTAssertEqual(status, 413, reply)
      XCTAssertTrue(try message(reply).contains("4096 bytes (--max-body-bytes)"), reply)
      let (ok, _) = try await server.call("/v1/rank", body: #"{"candidates": [\#(try candidate(0))]}"#)
      XCTAssertEqual(ok, 200, "a body under the limit is served")
    }
  }

  func testUnknownFeatureAndWrongLengthEmbeddingAre400sNamingThem() async throws {
    try await withServer(try rankerStore()) { server in
      let unknown = #"{"candidates": [\#(try candidate(0)), {"features": {"user.twhin_follow_embeddin": [1], "bogus": 2}}]}"#
      let (s1, r1) = try await server.call("/v1/rank", body: unknown)
      XCTAssertEqual(s1, 400)
      XCTAssertTrue(try message(r1).contains(#"candidates[1].features: unknown features "user.twhin_follow_embeddin", "bogus""#), r1)
      let short = Array(repeating: "0.5", count: 15).joined(separator: ",")
      let wrong = #"{"candidates": [{"features": {"user.twhin_follow_embedding": [\#(short)]}}]}"#
      let (s2, r2) = try await server.call("/v1/rank", body: wrong)
      XCTAssertEqual(s2, 400)
      XCTAssertTrue(try message(r2).contains("candidates[0].features.user.twhin_follow_embedding: feature user.twhin_follow_embedding has 15 values; the schema's float_list has length 16"), r2)
      // The same wrong length inside a base64 tf.Example: the parser's message, with the candidate.
      let example = Tensorflow_Example(features: ["user.twhin_follow_embedding": .floats(Array(repeating: 0.5, count: 15))])
      let b64 = Data(try example.serializedBytes() as [UInt8]).base64EncodedString()
      let (s3, r3) = try await server.call("/v1/rank", body: #"{"candidates": [\#(try candidate(1)), {"example": "\#(b64)"}]}"#)
      XCTAssertEqual(s3, 400)
      let m3 = try message(r3)
      XCTAssertTrue(m3.hasPrefix("candidates[1]: ") && m3.contains("user.twhin_follow_embedding"), m3)
      let (s3b, r3b) = try await server.call("/v1/rank", body: #"{"candidates": [{"example": "\#(b64)"}]}"#)
      XCTAssertEqual(s3b, 400, "the only candidate refused: \(r3b)")
      XCTAssertTrue(try message(r3b).hasPrefix("candidates[0]: "), r3b)
      let (s3c, r3c) = try await server.call("/v1/rank", body: #"{"candidates": [{"example": "not base64!"}]}"#)
      XCTAssertEqual(s3c, 400)
      XCTAssertTrue(try message(r3c).contains("candidates[0].example: not valid base64"), r3c)
      // An integer feature given a fraction, a user feature repeated by a candidate.
      let (s4, r4) = try await server.call("/v1/rank", body: #"{"candidates": [{"features": {"meta.user_id": 1.5}}]}"#)
      XCTAssertEqual(s4, 400)
      XCTAssertTrue(try message(r4).contains("candidates[0].features.meta.user_id[0]: 1.5 is not an int64"), r4)
      let (s5, r5) = try await server.call("/v1/rank", body: #"{"user": {"features": {"meta.user_id": 7}}, "candidates": [{"features": {"meta.user_id": 8}}]}"#)
      XCTAssertEqual(s5, 400)
      XCTAssertTrue(try message(r5).contains(#"feature "meta.user_id" is given both here and in user.features"#), r5)
      let (s6, r6) = try await server.call("/v1/rank", body: #"{"candidates": [\#(try candidate(0))], "weights": {"recap.engagement.is_bookmarked": 1}}"#)
      XCTAssertEqual(s6, 400)
      XCTAssertTrue(try message(r6).contains("recap.engagement.is_bookmarked not predicted by the model"), r6)
    }
  }

  func testMoreCandidatesThanTheLimitIsA413() async throws {
    var options = ServeOptions()
    options.maxCandidates = 5
    try await withServer(try rankerStore(), options: options) { server in
      let body = #"{"candidates": [\#((0..<6).map { _ in #"{"features": {}}"# }.joined(separator: ","))]}"#
      let (status, reply) = try await server.call("/v1/rank", body: body)
      XCTAssertEqual(status, 413)
      XCTAssertTrue(try message(reply).contains("6 candidates, more than the server's limit of 5 (--max-candidates)"), reply)
      let (ok, okReply) = try await server.call("/v1/rank", body: #"{"candidates": [\#((0..<5).map { _ in #"{"features": {}}"# }.joined(separator: ","))]}"#)
      XCTAssertEqual(ok, 200, "5 all-default candidates are fine: \(okReply.prefix(200))")
    }
  }

  func testUnknownRouteIsA404() async throws {
    try await withServer(try rankerStore()) { server in
      for (path, method) in [("/v1/rankk", "POST"), ("/", "GET"), ("/v2/rank", "POST"), ("/v1/rank", "GET")] {
        let (status, reply) = try await server.call(path, bytes: method == "POST" ? Array("{}".utf8) : nil, method: method)
        XCTAssertEqual(status, 404, "\(method) \(path)")
        XCTAssertTrue(try message(reply).contains("no route"), reply)
      }
    }
  }

  func testRequestsWhileTheModelLoadsAre503ThenServed() async throws {
    let gate = DispatchSemaphore(value: 0)
    let (config, checkpoint) = (fixtures.rankerConfig, fixtures.rankerSaveDir.path)
    let store = ModelStore(ranker: ModelSource(config: config, checkpoint: checkpoint), twhin: nil, loadRanker: { source, n in
      gate.wait()
      return try LoadedRanker.load(configPath: source.config, checkpoint: source.checkpoint, loadNumber: n)
    })
    let loaded = DispatchSemaphore(value: 0)
    store.startLoading { loaded.signal() }
    try await withServer(store) { server in
      let body = #"{"candidates": [\#(try candidate(0))]}"#
      let (status, reply) = try await server.call("/v1/rank", body: body)
      XCTAssertEqual(status, 503)
      XCTAssertTrue(try message(reply).contains("still loading"), reply)
      do { let status = try await server.call("/readyz").status; XCTAssertEqual(status, 503) }
      do { let status = try await server.call("/healthz").status; XCTAssertEqual(status, 200, "alive while loading") }
      gate.signal()
      await withCheckedContinuation { c in DispatchQueue.global().async { loaded.wait(); c.resume() } }
      do { let status = try await server.call("/readyz").status; XCTAssertEqual(status, 200) }
      do { let status = try await server.call("/v1/rank", body: body).status; XCTAssertEqual(status, 200) }
    }
  }
}
