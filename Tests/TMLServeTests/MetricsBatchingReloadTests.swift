import Foundation
import XCTest
@testable import TMLServe

/// `/metrics` counts, micro-batching of concurrent requests, and `/admin/reload` under
/// load (every request answered 200, the version moves).
final class MetricsBatchingReloadTests: XCTestCase {
  var fixtures: ServeFixtures!

  override func setUpWithError() throws { fixtures = try ServeFixtures.get() }

  func rankBody(_ records: ArraySlice<[UInt8]>) -> String {
    #"{"candidates": [\#(records.map { #"{"example": "\#(Data($0).base64EncodedString())"}"# }.joined(separator: ","))]}"#
  }

  /// The value of the exposition line `name{labels} value` (nil when absent).
  func sample(_ exposition: String, _ prefix: String) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(prefix + " ") {
      return Double(line.split(separator: " ").last!)
    }
    return nil
  }

  func testMetricsCountTheCallsByRouteAndStatus() async throws {
    let ranker = try LoadedRanker.load(configPath: fixtures.rankerConfig, checkpoint: fixtures.rankerSaveDir.path, loadNumber: 1)
    try await withServer(ModelStore(ranker: ranker, twhin: nil)) { server in
      let body = rankBody(try fixtures.validationRecords()[0..<7])
      for _ in 0..<3 { let status = try await server.call("/v1/rank", body: body).status; XCTAssertEqual(status, 200) }
      do { let status = try await server.call("/v1/rank", body: "{").status; XCTAssertEqual(status, 400) }
      do { let status = try await server.call("/nope").status; XCTAssertEqual(status, 404) }
      do { let status = try await server.call("/healthz").status; XCTAssertEqual(status, 200) }
      let (status, text) = try await server.call("/metrics")
      XCTAssertEqual(status, 200)
      XCTAssertEqual(sample(text, #"tml_http_requests_total{route="/v1/rank",status="200"}"#), 3, text)
      XCTAssertEqual(sample(text, #"tml_http_requests_total{route="/v1/rank",status="400"}"#), 1)
      XCTAssertEqual(sample(text, #"tml_http_requests_total{route="unmatched",status="404"}"#), 1)
      XCTAssertEqual(sample(text, #"tml_http_requests_total{route="/healthz",status="200"}"#), 1)
      XCTAssertEqual(sample(text, #"tml_http_request_duration_seconds_count{route="/v1/rank"}"#), 4)
      XCTAssertEqual(sample(text, "tml_rank_candidates_total"), 21)
      XCTAssertEqual(sample(text, "tml_rank_batch_rows_count"), 3, "three passes of 7 rows")
      XCTAssertEqual(sample(text, "tml_rank_batch_rows_sum"), 21)
      XCTAssertEqual(sample(text, #"tml_model_info{model="ranker",version="\#(ranker.version)"}"#), 1)
      let (_, again) = try await server.call("/metrics")
      XCTAssertEqual(sample(again, #"tml_http_requests_total{route="/metrics",status="200"}"#), 1, "the first /metrics call is counted")
    }
  }

  func testConcurrentRequestsShareForwardPasses() async throws {
    let ranker = try LoadedRanker.load(configPath: fixtures.rankerConfig, checkpoint: fixtures.rankerSaveDir.path, loadNumber: 1)
    var options = ServeOptions()
    options.maxWaitMicroseconds = 150_000
    options.maxBatch = 32
    let records = try fixtures.validationRecords()
    try await withServer(ModelStore(ranker: ranker, twhin: nil), options: options) { server in
      // Alone, each request's scores; then 8 at once.
      var alone: [String: Double] = [:]
      for r in 0..<8 {
        let json = try parseJSON(try await server.call("/v1/rank", body: rankBody(records[(r * 5)..<(r * 5 + 5)])).body)
        for c in json["candidates"]!.elements! { alone["\(r)/\(c["index"]!.int!)"] = c["score"]!.double! }
      }
      let before = sample(try await server.call("/metrics").body, "tml_rank_batch_rows_count") ?? 0
      let replies = try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
        for r in 0..<8 {
          group.addTask { let (s, b) = try await server.call("/v1/rank", body: self.rankBody(records[(r * 5)..<(r * 5 + 5)])); return (r, s, b) }
        }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      let passes = (sample(try await server.call("/metrics").body, "tml_rank_batch_rows_count") ?? 0) - before
      XCTAssertLessThan(passes, 8, "8 concurrent requests of 5 rows within a 150 ms window share passes")
      for (r, status, body) in replies {
        XCTAssertEqual(status, 200)
        for c in try parseJSON(body)["candidates"]!.elements! {
          XCTAssertEqual(c["score"]!.double!, alone["\(r)/\(c["index"]!.int!)"]!, accuracy: 1e-6, "batched with others, the same score")
        }
      }
      // A request larger than max-batch is split into passes and still answered whole.
      let passesBefore = sample(try await server.call("/metrics").body, "tml_rank_batch_rows_count") ?? 0
      let big = try parseJSON(try await server.call("/v1/rank", body: rankBody(records[0..<60])).body)
      let passesAfter = sample(try await server.call("/metrics").body, "tml_rank_batch_rows_count") ?? 0
      XCTAssertEqual(passesAfter - passesBefore, 2, "60 rows in passes of at most 32")
      XCTAssertEqual(big["count"]!.int, 60)
      for c in big["candidates"]!.elements! where c["index"]!.int! < 40 {
        let i = c["index"]!.int!
        XCTAssertEqual(c["score"]!.double!, alone["\(i / 5)/\(i % 5)"]!, accuracy: 1e-6)
      }
    }
  }

  func testReloadMidTrafficDropsNothingAndSwapsTheVersion() async throws {
    let steps = fixtures.rankerSaveDir.appendingPathComponent("checkpoints")
    let store = ModelStore(ranker: ModelSource(config: fixtures.rankerConfig, checkpoint: steps.appendingPathComponent("step_5").path), twhin: nil)
    let loaded = DispatchSemaphore(value: 0)
    store.startLoading { loaded.signal() }
    await withCheckedContinuation { c in DispatchQueue.global().async { loaded.wait(); c.resume() } }
    XCTAssertEqual(store.ranker?.step, 5)
    var options = ServeOptions()
    options.maxWaitMicroseconds = 200
    let records = try fixtures.validationRecords()
    try await withServer(store, options: options) { server in
      let body = rankBody(records[0..<20])
      // Four clients send requests back to back from before the reload until after it.
      let reloaded = Flag()
      let results = try await withThrowingTaskGroup(of: [(Int, String)].self) { group in
        for _ in 0..<4 {
          group.addTask {
            var out: [(Int, String)] = []
            var after = 0
            while after < 3 {
              if reloaded.isSet { after += 1 }
              let (s, b) = try await server.call("/v1/rank", body: body)
              out.append((s, try parseJSON(b)["model"]?["version"]?.stringValue ?? b))
            }
            return out
          }
        }
        group.addTask {
          try await Task.sleep(nanoseconds: 30_000_000)
          let (s, b) = try await server.call("/admin/reload", body: #"{"ranker": "\#(steps.appendingPathComponent("step_10").path)"}"#)
          reloaded.set()
          return [(s, "reload " + b)]
        }
        return try await group.reduce(into: []) { $0 += $1 }
      }
      XCTAssertGreaterThan(results.count, 12)
      for (status, text) in results { XCTAssertEqual(status, 200, text) }
      let versions = Set(results.map(\.1).filter { !$0.hasPrefix("reload") })
      XCTAssertEqual(versions, ["step_5@step_5#1", "step_10@step_10#2"], "requests before and after the swap")
      XCTAssertEqual(store.ranker?.step, 10)
      let after = try parseJSON(try await server.call("/v1/rank", body: body).body)
      XCTAssertEqual(after["model"]!["version"]!.stringValue, "step_10@step_10#2")
      // A reload from a checkpoint that does not exist keeps the old model serving.
      let (bad, badReply) = try await server.call("/admin/reload", body: #"{"ranker": "/no/such/checkpoint"}"#)
      XCTAssertEqual(bad, 422, badReply)
      do { let status = try await server.call("/v1/rank", body: body).status; XCTAssertEqual(status, 200) }
      let metrics = try await server.call("/metrics").body
      XCTAssertEqual(sample(metrics, #"tml_model_info{model="ranker",version="step_10@step_10#2"}"#), 1)
      XCTAssertEqual(sample(metrics, #"tml_model_info{model="ranker",version="step_5@step_5#1"}"#), 0)
      XCTAssertEqual(sample(metrics, #"tml_model_reloads_total{model="ranker"}"#), 1)
    }
  }
}

/// A flag set once, read from several tasks.
final class Flag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  var isSet: Bool { lock.withLock { value } }
  func set() { lock.withLock { value = true } }
}
