import Foundation
import TMLNN
import TMLTensor
import XCTest
@testable import TwHIN

/// Shared helpers for the TwHIN tests.
enum TwHINFixtures {
  static var directory: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/twhin")
  }

  static func golden() throws -> SafetensorsFile {
    try SafetensorsFile(contentsOf: directory.appendingPathComponent("twhin_golden.safetensors"))
  }

  /// user(9) / tweet(8) / author(5); fav user→tweet, follow user→user, authored_by tweet→author, reply user→tweet.
  static func goldenSchema() throws -> GraphSchema {
    try GraphSchema(
      tables: [TableSpec(name: "user", numEmbeddings: 9), TableSpec(name: "tweet", numEmbeddings: 8), TableSpec(name: "author", numEmbeddings: 5)],
      relations: [RelationSpec(name: "fav", lhs: "user", rhs: "tweet"), RelationSpec(name: "follow", lhs: "user", rhs: "user"),
                  RelationSpec(name: "authored_by", lhs: "tweet", rhs: "author"), RelationSpec(name: "reply", lhs: "user", rhs: "tweet")])
  }

  /// The fixture's model state, batch and negatives loaded into a fresh model.
  static func goldenSetup() throws -> (f: SafetensorsFile, model: TwHINModel, batch: EdgeBatch, negatives: [RelationNegatives]) {
    let f = try golden()
    let schema = try goldenSchema()
    let model = try TwHINModel(schema: schema, dim: 4)
    var state = StateDict()
    for name in f.names where name.hasPrefix("state.") { state[String(name.dropFirst(6))] = .init(try f.tensor(name)) }
    try model.loadStateDict(state)
    let batch = try EdgeBatch(lhs: try f.indexTensor("batch.lhs").values, relations: try f.indexTensor("batch.rel").values,
                              rhs: try f.indexTensor("batch.rhs").values, schema: schema)
    let negatives = try batch.presentRelations.map { r in
      RelationNegatives(relation: r, lhsInBatch: try f.indexTensor("neg.\(r).lhs_in_batch").values,
                        rhsInBatch: try f.indexTensor("neg.\(r).rhs_in_batch").values,
                        lhsGlobal: try f.indexTensor("neg.\(r).lhs_global").values,
                        rhsGlobal: try f.indexTensor("neg.\(r).rhs_global").values)
    }
    return (f, model, batch, negatives)
  }
}

/// |a − b| ≤ abs + rel·|b| elementwise.
func assertClose(_ a: [Float], _ b: [Float], abs: Float = 1e-6, rel: Float = 1e-5, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
  guard a.count == b.count else { return XCTFail("\(what): \(a.count) values vs \(b.count)", file: file, line: line) }
  for i in a.indices where !(Swift.abs(a[i] - b[i]) <= abs + rel * Swift.abs(b[i])) {
    return XCTFail("\(what): index \(i): \(a[i]) vs expected \(b[i])", file: file, line: line)
  }
}

/// Runs `body`, expecting a `TwHINError` whose message contains every part.
func assertTwHINError<T>(_ parts: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
  do {
    _ = try body()
    XCTFail("expected an error mentioning \(parts)", file: file, line: line)
  } catch let e as TwHINError {
    for p in parts where !e.message.contains(p) { XCTFail("error \"\(e.message)\" does not mention \"\(p)\"", file: file, line: line) }
  } catch {
    XCTFail("expected a TwHINError, got \(type(of: error)): \(error)", file: file, line: line)
  }
}
