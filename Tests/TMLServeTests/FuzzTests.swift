import Foundation
import TMLTensor
import XCTest
@testable import TMLServe

/// 2000 deterministic mutations of valid request bodies (byte flips, deletions,
/// insertions of JSON tokens and random bytes, duplications, truncations), sent to the
/// real server: every answer is a 4xx with a JSON error, or a 200 when the mutant is still
/// a valid request; afterwards the server is healthy and answers the original as before.
final class FuzzTests: XCTestCase {
  static let tokens = ["{", "}", "[", "]", ",", ":", "\"", "null", "true", "-", "1e999", "0.5", "\\u12", "\"features\"", "\"example\"",
                       "\"candidates\"", "\"top\"", "-1", "99999999999999999999", "\u{00}", "\u{FF}", " ", "[[[[[[[[", "\"\\ud800\""]

  static func mutate(_ body: [UInt8], _ rng: inout RandomGenerator) -> [UInt8] {
    var b = body
    for _ in 0...rng.below(3) {
      let i = rng.below(b.count + 1)
      switch rng.below(7) {
      case 0 where !b.isEmpty: b[min(i, b.count - 1)] ^= UInt8(1 << rng.below(8))
      case 1 where !b.isEmpty:
        let n = 1 + rng.below(min(16, b.count))
        b.removeSubrange(min(i, b.count - n)..<(min(i, b.count - n) + n))
      case 2: b.insert(contentsOf: Array(tokens[rng.below(tokens.count)].utf8), at: i)
      case 3: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
      case 4 where b.count > 1:
        let start = rng.below(b.count - 1), n = 1 + rng.below(min(64, b.count - start))
        b.insert(contentsOf: b[start..<(start + n)], at: i)
      case 5: b = Array(b.prefix(i))
      default:
        if let d = b.indices.filter({ b[$0] >= 0x30 && b[$0] <= 0x39 }).randomElement(using: &rng) {
          b[d] = UInt8(0x30 + rng.below(10))
        }
      }
    }
    return b
  }

  func testTwoThousandMutatedBodiesGetA4xxOrA200AndTheServerStaysHealthy() async throws {
    let fixtures = try ServeFixtures.get()
    let records = try fixtures.validationRecords()
    let store = ModelStore(ranker: ModelSource(config: fixtures.rankerConfig, checkpoint: fixtures.rankerSaveDir.path),
                           twhin: ModelSource(config: fixtures.twhinConfig, checkpoint: fixtures.twhinSaveDir.path))
    let loaded = DispatchSemaphore(value: 0)
    store.startLoading { loaded.signal() }
    await withCheckedContinuation { c in DispatchQueue.global().async { loaded.wait(); c.resume() } }
    var options = ServeOptions()
    options.maxCandidates = 8
    options.maxWaitMicroseconds = 100
    let rank = #"{"user": {"features": {}}, "candidates": [{"id": "a", "features": \#(try ServeFixtures.featuresJSON(records[0]))}, {"id": 2, "example": "\#(Data(records[1]).base64EncodedString())"}], "weights": {"recap.engagement.is_replied": 2.5}, "top": 2}"#
    let neighbors = #"{"relation": "fav", "lhs": 3, "k": 4, "exact": false}"#
    let feed = #"{"in_network": [{"id": "x", "example": "\#(Data(records[2]).base64EncodedString())"}], "twhin": {"relation": "fav", "lhs": 1, "k": 50, "items": [{"rhs": 5, "id": "y", "features": {"meta.tweet_id": 9}}]}}"#
    let bases = [("/v1/rank", rank), ("/v1/neighbors", neighbors), ("/v1/feed", feed), ("/admin/reload", #"{"twhin": "\#(fixtures.twhinSaveDir.path)"}"#)]
    try await withServer(store, options: options) { server in
      var originals: [String] = []
      for (path, body) in bases.prefix(3) {
        let (status, reply) = try await server.call(path, body: body)
        XCTAssertEqual(status, 200, "the unmutated \(path) body is valid: \(reply.prefix(300))")
        originals.append(reply)
      }
      var rng = RandomGenerator(seed: 0x5EED)  // the same mutations on every run
      var mutants: [(String, [UInt8])] = []
      for k in 0..<2000 {
        let (path, body) = bases[k % 40 == 39 ? 3 : k % 3]
        mutants.append((path, FuzzTests.mutate(Array(body.utf8), &rng)))
      }
      var counts: [Int: Int] = [:]
      for chunk in stride(from: 0, to: mutants.count, by: 8) {
        let answers = try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
          for k in chunk..<min(chunk + 8, mutants.count) {
            group.addTask {
              let (s, b) = try await server.call(mutants[k].0, bytes: mutants[k].1)
              return (k, s, b)
            }
          }
          return try await group.reduce(into: []) { $0.append($1) }
        }
        for (k, status, reply) in answers {
          counts[status, default: 0] += 1
          let shown = String(decoding: mutants[k].1.prefix(200), as: UTF8.self)
          XCTAssertTrue(status == 200 || (400..<500).contains(status), "mutant \(k) to \(mutants[k].0) → \(status) \(reply.prefix(200)); body \(shown)")
          let json = try? JSONReader.parse(Array(reply.utf8))
          XCTAssertNotNil(json, "mutant \(k): the reply is JSON: \(reply.prefix(200))")
          if status != 200 { XCTAssertNotNil(json?["error"]?["message"], "mutant \(k): an error message") }
        }
      }
      print("fuzz statuses: \(counts.sorted { $0.key < $1.key })")
      XCTAssertGreaterThan(counts[400, default: 0], 1000, "\(counts)")
      XCTAssertGreaterThan(counts[200, default: 0], 0, "some mutants stay valid: \(counts)")
      do { let status = try await server.call("/healthz").status; XCTAssertEqual(status, 200) }
      for ((path, body), original) in zip(bases.prefix(3), originals) {
        var again = try await server.call(path, body: body).body
        // The TwHIN model was reloaded by some mutants: its load number moves.
        if path != "/v1/rank" { again = again.replacingOccurrences(of: #"#\d+""#, with: "", options: .regularExpression) }
        let expected = path != "/v1/rank" ? original.replacingOccurrences(of: #"#\d+""#, with: "", options: .regularExpression) : original
        XCTAssertEqual(again, expected, "\(path) answers as before the fuzzing")
      }
    }
  }
}

extension RandomGenerator {
  /// Uniform in 0..<n (n ≥ 1).
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

extension Array {
  func randomElement(using rng: inout RandomGenerator) -> Element? { isEmpty ? nil : self[rng.below(count)] }
}
