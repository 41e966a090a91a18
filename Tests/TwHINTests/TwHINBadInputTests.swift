import Foundation
import TMLTensor
import XCTest
@testable import TwHIN

/// Bad input gives a `TwHINError` naming the id, relation or table — never a trap.
final class TwHINBadInputTests: XCTestCase {
  func testIDOutsideItsTableNamesTheEdgeRelationAndTable() throws {
    let schema = try TwHINFixtures.goldenSchema()
    assertTwHINError(["edge 1", "\"fav\"", "rhs", "id 8", "\"tweet\"", "0..<8"]) {
      try EdgeBatch(lhs: [0, 1], relations: [0, 0], rhs: [2, 8], schema: schema)
    }
    assertTwHINError(["edge 0", "\"authored_by\"", "lhs", "id -1", "\"tweet\""]) {
      try EdgeBatch(lhs: [-1], relations: [2], rhs: [0], schema: schema)
    }
  }

  func testUnknownRelationIDAndNameAreErrors() throws {
    let schema = try TwHINFixtures.goldenSchema()
    assertTwHINError(["edge 0", "unknown relation id 7", "4 relations", "0=fav"]) {
      try EdgeBatch(lhs: [0], relations: [7], rhs: [0], schema: schema)
    }
    let model = try TwHINModel(schema: schema, dim: 2)
    assertTwHINError(["unknown relation \"like\"", "fav, follow"]) { try model.neighbors(lhs: 0, relation: "like", k: 3) }
    assertTwHINError(["unknown relation id 4"]) { try model.score(lhs: 0, relation: 4, rhs: 0) }
    assertTwHINError(["unknown relation id -1"]) { try model.neighbors(lhs: 0, relation: -1, k: 3) }
  }

  func testMismatchedColumnLengthsAreAnError() throws {
    assertTwHINError(["lhs (2)", "relations (1)", "rhs (2)"]) {
      try EdgeBatch(lhs: [0, 1], relations: [0], rhs: [1, 2], schema: try TwHINFixtures.goldenSchema())
    }
  }

  func testSchemaErrorsNameTheRelationAndTable() {
    let user = TableSpec(name: "user", numEmbeddings: 3)
    assertTwHINError(["relation \"fav\"", "rhs \"tweet\"", "not a table", "user"]) {
      try GraphSchema(tables: [user], relations: [RelationSpec(name: "fav", lhs: "user", rhs: "tweet")])
    }
    assertTwHINError(["table \"user\"", "twice"]) {
      try GraphSchema(tables: [user, user], relations: [RelationSpec(name: "f", lhs: "user", rhs: "user")])
    }
    assertTwHINError(["table \"empty\"", "num_embeddings 0"]) {
      try GraphSchema(tables: [TableSpec(name: "empty", numEmbeddings: 0)], relations: [RelationSpec(name: "f", lhs: "empty", rhs: "empty")])
    }
    assertTwHINError(["no relations"]) { try GraphSchema(tables: [user], relations: []) }
  }

  func testExplicitNegativesAreValidated() throws {
    let schema = try TwHINFixtures.goldenSchema()
    let model = try TwHINModel(schema: schema, dim: 2)
    let batch = try EdgeBatch(lhs: [0, 1], relations: [0, 0], rhs: [1, 2], schema: schema)
    let loss = try TwHINLoss(inBatchNegatives: 1)
    assertTwHINError(["relation \"fav\"", "no negatives entry"]) { try loss(model, batch, negatives: []) }
    assertTwHINError(["relation \"fav\"", "rhsInBatch position 2", "2 edges"]) {
      try loss(model, batch, negatives: [RelationNegatives(relation: 0, lhsInBatch: [0], rhsInBatch: [2])])
    }
    assertTwHINError(["relation \"fav\"", "global rhs", "id 99", "\"tweet\""]) {
      try loss(model, batch, negatives: [RelationNegatives(relation: 0, lhsInBatch: [], rhsInBatch: [], rhsGlobal: [99])])
    }
    assertTwHINError(["relation \"follow\"", "no edge in this batch"]) {
      try loss(model, batch, negatives: [RelationNegatives(relation: 0, lhsInBatch: [0], rhsInBatch: [0]),
                                         RelationNegatives(relation: 1, lhsInBatch: [0], rhsInBatch: [0])])
    }
    assertTwHINError(["relation \"fav\"", "twice"]) {
      try loss(model, batch, negatives: Array(repeating: RelationNegatives(relation: 0, lhsInBatch: [0], rhsInBatch: [0]), count: 2))
    }
  }

  func testBatchOfAnotherSchemaOrEmptyIsRejected() throws {
    let schema = try TwHINFixtures.goldenSchema()
    let small = try GraphSchema(tables: [TableSpec(name: "user", numEmbeddings: 3), TableSpec(name: "tweet", numEmbeddings: 2),
                                         TableSpec(name: "author", numEmbeddings: 5)],
                                relations: schema.relations)
    let model = try TwHINModel(schema: small, dim: 2)
    let loss = try TwHINLoss(inBatchNegatives: 1)
    var rng = RandomGenerator(seed: 0)
    let big = try EdgeBatch(lhs: [7], relations: [0], rhs: [1], schema: schema)
    assertTwHINError(["edge 0", "\"fav\"", "id 7", "\"user\"", "0..<3"]) { try loss(model, big, using: &rng) }
    let empty = try EdgeBatch(lhs: [], relations: [], rhs: [], schema: small)
    assertTwHINError(["no edges"]) { try loss(model, empty, using: &rng) }
    let other = try GraphSchema(tables: small.tables, relations: [RelationSpec(name: "x", lhs: "tweet", rhs: "user")])
    assertTwHINError(["another schema"]) { try loss(model, try EdgeBatch(lhs: [0], relations: [0], rhs: [0], schema: other), using: &rng) }
  }

  func testModelAndTrainerConfigurationErrors() throws {
    let schema = try TwHINFixtures.goldenSchema()
    assertTwHINError(["embedding_dim", "≥ 1"]) { try TwHINModel(schema: schema, dim: 0) }
    let model = try TwHINModel(schema: schema, dim: 2)
    assertTwHINError(["2 table optimizers", "3 tables", "user, tweet, author"]) {
      try TwHINTrainer(model: model, loss: try TwHINLoss(inBatchNegatives: 1), tableOptimizers: [.sgd(.constant(0.1)), .sgd(.constant(0.1))],
                       translationOptimizer: .sgd(.constant(0.1)))
    }
    assertTwHINError(["in_batch_negatives (-1)"]) { try TwHINLoss(inBatchNegatives: -1) }
    assertTwHINError(["table \"nope\""]) { try model.table(named: "nope") }
    assertTwHINError(["lhs at position 1", "id 9", "\"user\""]) { try model.neighbors(lhs: [0, 9], relation: 0, k: 2) }
    assertTwHINError(["k must be ≥ 0"]) { try model.neighbors(lhs: 0, relation: 0, k: -1) }
  }

  func testDivergedLossIsAnErrorNotSilentTraining() throws {
    let schema = try TwHINFixtures.goldenSchema()
    let model = try TwHINModel(schema: schema, dim: 2)
    model.translations.value.withUnsafeMutableBufferPointer { $0[0] = .nan }
    let trainer = try TwHINTrainer(model: model, loss: try TwHINLoss(inBatchNegatives: 1), tableOptimizers: Array(repeating: .sgd(.constant(0.1)), count: 3),
                                   translationOptimizer: .sgd(.constant(0.1)))
    XCTAssertThrowsError(try trainer.step(try EdgeBatch(lhs: [0], relations: [0], rhs: [0], schema: schema))) { e in
      XCTAssertTrue("\(e)".contains("non-finite"), "\(e)")
    }
  }
}

extension TwHINBadInputTests {
  func testEdgeListColumnsMustHaveEqualLengths() {
    assertTwHINError(["EdgeList", "lhs (1)", "relations (2)"]) { try EdgeList(lhs: [0], relations: [0, 0], rhs: [1]) }
    assertTwHINError(["batch size must be ≥ 1"]) { try EdgeList().batches(of: 0, schema: try TwHINFixtures.goldenSchema()) }
  }
}
