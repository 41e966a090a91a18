import Foundation
import TMLANN
import TMLNN
import TwHIN
import XCTest
@testable import TMLServe

/// `/v1/neighbors` against the exact scan (`TwHINModel.neighbors`), the `exact: false`
/// fallback and a plugged-in approximate source, and `/v1/feed` (retrieval + ranking).
final class NeighborsAndFeedTests: XCTestCase {
  var fixtures: ServeFixtures!

  override func setUpWithError() throws { fixtures = try ServeFixtures.get() }

  func twhin() throws -> LoadedTwHIN {
    try LoadedTwHIN.load(configPath: fixtures.twhinConfig, checkpoint: fixtures.twhinSaveDir.path, loadNumber: 1)
  }

  func testNeighborsEqualTheExactScan() async throws {
    let t = try twhin()
    try await withServer(ModelStore(ranker: nil, twhin: t)) { server in
      for (lhs, relation, k) in [(0, "fav", 10), (7, "follow", 5), (49, "fav", 300), (3, "follow", 50)] {
        let (status, reply) = try await server.call("/v1/neighbors", body: #"{"relation": "\#(relation)", "lhs": \#(lhs), "k": \#(k)}"#)
        XCTAssertEqual(status, 200, reply)
        let json = try parseJSON(reply)
        let expected = try t.model.neighbors(lhs: lhs, relation: relation, k: k)
        let got = json["neighbors"]!.elements!
        XCTAssertEqual(got.count, expected.count, "k \(k) over a table of \(relation == "fav" ? 300 : 20) rows")
        for (g, e) in zip(got, expected) {
          XCTAssertEqual(g["row"]!.int, e.id)
          XCTAssertEqual(g["id"]!.int, e.id, "no vocabulary: ids are rows")
          XCTAssertEqual(Float(g["score"]!.double!), e.score)
        }
        XCTAssertEqual(json["method"], .string("exact"))
        XCTAssertEqual(json["model"]!["version"]!.stringValue, "step_1@step_1#1")
      }
    }
  }

  /// A stand-in approximate index: the exact answer reversed, so a test can tell who answered.
  struct ReversedSource: NeighborSource {
    let exact: ExactNeighborScan
    var method: String { "test-index" }
    func neighbors(lhs: Int, relation: Int, k: Int) throws -> [Neighbor] { try exact.neighbors(lhs: lhs, relation: relation, k: k).reversed() }
  }

  func testInexactFallsBackToTheExactScanUntilAnIndexIsPluggedIn() async throws {
    let t = try twhin()
    try await withServer(ModelStore(ranker: nil, twhin: t)) { server in
      let body = #"{"relation": "fav", "lhs": 4, "k": 5, "exact": false}"#
      let before = try parseJSON(try await server.call("/v1/neighbors", body: body).body)
      XCTAssertEqual(before["method"], .string("exact"))
      XCTAssertEqual(before["requested_exact"], .bool(false))
      t.approximate[1] = ReversedSource(exact: t.exact)
      let after = try parseJSON(try await server.call("/v1/neighbors", body: body).body)
      XCTAssertEqual(after["method"], .string("test-index"))
      XCTAssertEqual(after["neighbors"]!.elements!.map { $0["row"]!.int! }, before["neighbors"]!.elements!.map { $0["row"]!.int! }.reversed())
      let exact = try parseJSON(try await server.call("/v1/neighbors", body: #"{"relation": "fav", "lhs": 4, "k": 5}"#).body)
      XCTAssertEqual(exact["method"], .string("exact"), "exact: true (the default) never uses the index")
    }
  }

  /// An HNSW index saved in the checkpoint's ann/ folder is loaded with the model and answers
  /// `exact: false`; with a breadth above the table size its neighbours are the exact ones.
  func testASavedHNSWIndexAnswersInexactRequests() async throws {
    let step = try XCTUnwrap(CheckpointManager(saveDir: fixtures.twhinSaveDir).steps().last?.url)
    let plain = try twhin()
    let fav = try plain.run.schema.relationIndex(named: "fav"), table = plain.run.schema.rhsTable[fav]
    let (index, crc) = try TwHINANN.build(model: plain.model, table: table, parameters: HNSWParameters(), threads: 1)
    try ANNIndexFile.write(index, table: plain.run.schema.tables[table].name, parameters: HNSWParameters(), tableCRC32C: crc, checkpoint: step)
    defer { try? FileManager.default.removeItem(at: step.appendingPathComponent("ann")) }
    let t = try LoadedTwHIN.load(configPath: fixtures.twhinConfig, checkpoint: fixtures.twhinSaveDir.path, loadNumber: 1, annSearchBreadth: 1000)
    try await withServer(ModelStore(ranker: nil, twhin: t)) { server in
      for lhs in [0, 4, 49] {
        let reply = try parseJSON(try await server.call("/v1/neighbors", body: #"{"relation": "fav", "lhs": \#(lhs), "k": 10, "exact": false}"#).body)
        XCTAssertEqual(reply["method"], .string("hnsw"))
        let expected = try t.model.neighbors(lhs: lhs, relation: fav, k: 10)
        XCTAssertEqual(reply["neighbors"]!.elements!.map { $0["row"]!.int! }, expected.map(\.id), "lhs \(lhs)")
        // follow's rhs table (author) has no index: the exact scan answers.
        let follow = try parseJSON(try await server.call("/v1/neighbors", body: #"{"relation": "follow", "lhs": \#(lhs), "k": 3, "exact": false}"#).body)
        XCTAssertEqual(follow["method"], .string("exact"))
      }
    }
  }

  /// `--ann-index pq`: a PQ fast scan of every rhs table, built at load, answers inexact requests.
  func testAPQIndexBuiltAtLoadAnswersInexactRequests() async throws {
    let t = try twhin()
    try t.buildPQIndexes(rerank: 1000)
    let fav = try t.run.schema.relationIndex(named: "fav")
    try await withServer(ModelStore(ranker: nil, twhin: t)) { server in
      for lhs in [0, 4, 49] {
        let reply = try parseJSON(try await server.call("/v1/neighbors", body: #"{"relation": "fav", "lhs": \#(lhs), "k": 10, "exact": false}"#).body)
        XCTAssertEqual(reply["method"], .string("pq"))
        XCTAssertEqual(reply["neighbors"]!.elements!.map { $0["row"]!.int! }, try t.model.neighbors(lhs: lhs, relation: fav, k: 10).map(\.id), "lhs \(lhs)")
      }
    }
  }

  func testNeighborsRequestErrorsNameTheMember() async throws {
    try await withServer(ModelStore(ranker: nil, twhin: try twhin())) { server in
      for (body, needle) in [
        (#"{"relation": "like", "lhs": 1}"#, "unknown relation \"like\""),
        (#"{"relation": "fav", "lhs": 50}"#, "row 50 is outside table \"user\""),
        (#"{"relation": "fav", "lhs": 1, "k": 0}"#, "body.k"),
        (#"{"relation": "fav", "lhs": 1, "lhs_table": "tweet"}"#, "lhs_table"),
        (#"{"relation": "fav", "lhs": 1, "kk": 3}"#, "unknown member \"kk\""),
      ] {
        let (status, reply) = try await server.call("/v1/neighbors", body: body)
        XCTAssertEqual(status, 400, body)
        let message = try parseJSON(reply)["error"]?["message"]?.stringValue ?? reply
        XCTAssertTrue(message.contains(needle), "\(body) → \(message)")
      }
      let (status, reply) = try await server.call("/v1/rank", body: #"{"candidates": []}"#)
      XCTAssertEqual(status, 409, "no ranker configured: \(reply)")
    }
  }

  func testFeedRanksInNetworkAndTheTwHINNeighboursItemsLikeRank() async throws {
    let records = try fixtures.validationRecords()
    let t = try twhin()
    let ranker = try LoadedRanker.load(configPath: fixtures.rankerConfig, checkpoint: fixtures.rankerSaveDir.path, loadNumber: 1)
    try await withServer(ModelStore(ranker: ranker, twhin: t)) { server in
      let lhs = 3, k = 20
      let top = Set(try t.model.neighbors(lhs: lhs, relation: 1, k: k).map(\.id))
      // 10 in-network candidates, and 30 items on tweets 0..<300 step 10: some are neighbours.
      let inNetwork = (0..<10).map { i in #"{"id": "in\#(i)", "example": "\#(Data(records[i]).base64EncodedString())"}"# }
      let itemRows = (0..<30).map { $0 * 10 }
      let items = itemRows.enumerated().map { j, rhs in
        #"{"rhs": \#(rhs), "id": "oon\#(j)", "example": "\#(Data(records[10 + j]).base64EncodedString())"}"#
      }
      let body = #"{"in_network": [\#(inNetwork.joined(separator: ","))], "twhin": {"relation": "fav", "lhs": \#(lhs), "k": \#(k), "items": [\#(items.joined(separator: ","))]}}"#
      let (status, reply) = try await server.call("/v1/feed", body: body)
      XCTAssertEqual(status, 200, String(reply.prefix(400)))
      let json = try parseJSON(reply)
      let feed = json["feed"]!.elements!
      let selected = itemRows.enumerated().filter { top.contains($0.element) }.map { "oon\($0.offset)" }
      XCTAssertEqual(json["retrieval"]!["items_selected"]!.int, selected.count)
      XCTAssertEqual(Set(feed.map { $0["id"]!.stringValue! }), Set((0..<10).map { "in\($0)" } + selected))
      for e in feed where e["source"]!.stringValue == "TwHIN" {
        let rhs = e["neighbor"]!["rhs"]!.int!
        XCTAssertTrue(top.contains(rhs))
      }
      // The same candidates through /v1/rank get the same scores.
      let chosen = (0..<10).map { (id: "in\($0)", record: records[$0]) } + itemRows.enumerated().filter { top.contains($0.element) }.map { (id: "oon\($0.offset)", record: records[10 + $0.offset]) }
      let rankBody = #"{"candidates": [\#(chosen.map { #"{"id": "\#($0.id)", "example": "\#(Data($0.record).base64EncodedString())"}"# }.joined(separator: ","))]}"#
      let ranked = try parseJSON(try await server.call("/v1/rank", body: rankBody).body)
      XCTAssertEqual(ranked["candidates"]!.elements!.map { $0["id"]!.stringValue! }, feed.map { $0["id"]!.stringValue! })
      for (a, b) in zip(ranked["candidates"]!.elements!, feed) { XCTAssertEqual(a["score"]!.double!, b["score"]!.double!, accuracy: 1e-9) }
    }
  }
}
