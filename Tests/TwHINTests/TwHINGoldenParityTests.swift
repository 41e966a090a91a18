import Foundation
import TMLNN
import TMLTensor
import XCTest
@testable import TwHIN

/// The corrected TwHIN objective against a plain-PyTorch implementation with the same
/// batch and the same (fixed) negatives (tools/golden/make_twhin_fixtures.py →
/// Tests/Fixtures/twhin/twhin_golden.safetensors).
final class TwHINGoldenParityTests: XCTestCase {
  static let tableNames = ["user", "tweet", "author"]
  static func key(_ t: String) -> String { "large_embeddings.ebc.embedding_bags.\(t).weight" }

  func testFixtureWasMadeForThisSchemaAndNegativeCounts() throws {
    let f = try TwHINFixtures.golden()
    let meta = try XCTUnwrap(f.metadata["twhin"]).data(using: .utf8)!
    let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: meta) as? [String: Any])
    let schema = try TwHINFixtures.goldenSchema()
    XCTAssertEqual((json["tables"] as? [[Any]])?.map { "\($0[0]):\($0[1])" }, schema.tables.map { "\($0.name):\($0.numEmbeddings)" })
    XCTAssertEqual((json["relations"] as? [[String]])?.map { $0.joined(separator: ",") }, schema.relations.map { "\($0.name),\($0.lhs),\($0.rhs)" })
    XCTAssertEqual(json["in_batch_negatives"] as? Int, 3)
    XCTAssertEqual(json["global_negatives"] as? Int, 2)
    XCTAssertEqual(json["dim"] as? Int, 4)
  }

  func testStateDictNamesAreTheOriginals() throws {
    let (_, model, _, _) = try TwHINFixtures.goldenSetup()
    XCTAssertEqual(model.stateDict().names, ["all_trans_embs"] + Self.tableNames.map(Self.key))
    XCTAssertEqual(model.translations.shape, [4, 4])
  }

  func testLogitsLabelsWeightsAndLossMatchPyTorch() throws {
    let (f, model, batch, negatives) = try TwHINFixtures.goldenSetup()
    let out = try noGrad { try TwHINLoss(inBatchNegatives: 3, globalNegatives: 2)(model, batch, negatives: negatives) }
    assertClose(out.logits.scalars, try f.tensor("logits").scalars, abs: 1e-5, rel: 1e-5, "logits")
    XCTAssertEqual(out.labels.scalars, try f.tensor("labels").scalars)
    assertClose(out.weights.scalars, try f.tensor("weights").scalars, "weights")
    assertClose([out.loss.item!], [try f.tensor("loss").item!], abs: 1e-5, rel: 1e-5, "loss")
    XCTAssertEqual(out.negativeCount, 100)
  }

  func testGradientsMatchPyTorch() throws {
    let (f, model, batch, negatives) = try TwHINFixtures.goldenSetup()
    let out = try TwHINLoss(inBatchNegatives: 3, globalNegatives: 2)(model, batch, negatives: negatives)
    try out.loss.backward()
    assertClose(try XCTUnwrap(model.translations.grad).scalars, try f.tensor("grad.all_trans_embs").scalars,
                abs: 1e-6, rel: 1e-4, "grad all_trans_embs")
    for (k, name) in Self.tableNames.enumerated() {
      let sparse = try XCTUnwrap(model.tables[k].sparseGradient, "table \(name) got no gradient")
      let dense = sparse.dense(numRows: model.schema.tables[k].numEmbeddings)
      assertClose(dense.scalars, try f.tensor("grad." + Self.key(name)).scalars, abs: 1e-6, rel: 1e-4, "grad \(name)")
    }
  }

  func testOneSGDStepMatchesPyTorch() throws {
    let (f, model, batch, negatives) = try TwHINFixtures.goldenSetup()
    let trainer = try TwHINTrainer(
      model: model, loss: try TwHINLoss(inBatchNegatives: 3, globalNegatives: 2),
      tableOptimizers: [.sgd(.constant(0.1)), .sgd(.constant(0.2)), .sgd(.constant(0.2))],
      translationOptimizer: .sgd(.constant(0.05)))
    let r = try trainer.step(batch, negatives: negatives)
    XCTAssertEqual(r.loss, try f.tensor("loss").item!, accuracy: 1e-5)
    for name in ["all_trans_embs"] + Self.tableNames.map(Self.key) {
      assertClose(model.stateDict()[name]!.tensor.scalars, try f.tensor("sgd." + name).scalars, abs: 1e-6, rel: 1e-5, "after SGD: \(name)")
    }
    XCTAssertNil(model.translations.grad, "the trainer clears the translations' gradient after its step")
  }

  func testOneRowWiseAdagradStepMatchesPyTorch() throws {
    let (f, model, batch, negatives) = try TwHINFixtures.goldenSetup()
    let trainer = try TwHINTrainer(
      model: model, loss: try TwHINLoss(inBatchNegatives: 3, globalNegatives: 2),
      tableOptimizers: Array(repeating: .rowWiseAdagrad(.constant(0.3), eps: 1e-8), count: 3),
      translationOptimizer: .sgd(.constant(0.05)))
    try trainer.step(batch, negatives: negatives)
    for name in Self.tableNames.map(Self.key) {
      assertClose(model.stateDict()[name]!.tensor.scalars, try f.tensor("rowwise." + name).scalars, abs: 1e-5, rel: 1e-4, "after row-wise Adagrad: \(name)")
    }
  }
}
