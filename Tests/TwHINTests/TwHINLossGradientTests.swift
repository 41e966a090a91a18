import Foundation
import TMLNN
import TMLTensor
import XCTest
@testable import TwHIN

/// The loss's gradients against central finite differences, and how they reach the
/// tables (sparse, once per table per step) and the translations (dense).
final class TwHINLossGradientTests: XCTestCase {
  /// A small random model and batch over the golden schema (3 tables, 4 relations, one absent).
  func setup(seed: UInt64 = 1) throws -> (TwHINModel, EdgeBatch, [RelationNegatives], TwHINLoss) {
    let schema = try TwHINFixtures.goldenSchema()
    let model = try TwHINModel(schema: schema, dim: 3, embeddingInit: .normal(std: 0.7), translationInit: .normal(std: 0.5), seed: seed)
    let batch = try EdgeBatch(lhs: [0, 2, 0, 3, 5, 1, 2], relations: [0, 1, 0, 2, 0, 1, 2], rhs: [1, 4, 6, 0, 1, 2, 4], schema: schema)
    let loss = try TwHINLoss(inBatchNegatives: 3, globalNegatives: 2)
    var rng = RandomGenerator(seed: seed, stream: 9)
    let negatives = loss.sampler.sample(batch, schema: schema, using: &rng)
    return (model, batch, negatives, loss)
  }

  func lossValue(_ model: TwHINModel, _ batch: EdgeBatch, _ negs: [RelationNegatives], _ loss: TwHINLoss) throws -> Double {
    Double(try noGrad { try loss(model, batch, negatives: negs).loss.item! })
  }

  /// Central difference of the loss in parameter `p` at flat index `i`.
  func numericGradient(_ p: Parameter, _ i: Int, _ f: () throws -> Double, h: Float = 1e-2) throws -> Double {
    let x = p.value.scalars[i]
    p.value.withUnsafeMutableBufferPointer { $0[i] = x + h }
    let up = try f()
    p.value.withUnsafeMutableBufferPointer { $0[i] = x - h }
    let down = try f()
    p.value.withUnsafeMutableBufferPointer { $0[i] = x }
    return (up - down) / (2 * Double(h))
  }

  func testTableGradientsMatchFiniteDifferencesOnTheRowsUsed() throws {
    let (model, batch, negs, loss) = try setup()
    try loss(model, batch, negatives: negs).loss.backward()
    for (k, table) in model.tables.enumerated() {
      let g = try XCTUnwrap(table.sparseGradient, "table \(k)")
      let dense = g.dense(numRows: table.numEmbeddings).scalars
      var checked = 0
      for row in 0..<table.numEmbeddings {
        for j in 0..<model.dim {
          let i = row * model.dim + j
          let numeric = try numericGradient(table.weight, i) { try lossValue(model, batch, negs, loss) }
          XCTAssertEqual(Double(dense[i]), numeric, accuracy: 1e-5 + 1e-3 * abs(numeric), "table \(model.schema.tables[k].name) row \(row) col \(j)")
          if !g.rows.contains(row) { XCTAssertEqual(numeric, 0, accuracy: 1e-6, "a row not looked up has no gradient") }
          checked += 1
        }
      }
      XCTAssertEqual(checked, table.numEmbeddings * model.dim)
    }
  }

  func testTranslationGradientsMatchFiniteDifferences() throws {
    let (model, batch, negs, loss) = try setup(seed: 2)
    try loss(model, batch, negatives: negs).loss.backward()
    let g = try XCTUnwrap(model.translations.grad).scalars
    for i in 0..<g.count {
      let numeric = try numericGradient(model.translations, i) { try lossValue(model, batch, negs, loss) }
      XCTAssertEqual(Double(g[i]), numeric, accuracy: 1e-5 + 1e-3 * abs(numeric), "all_trans_embs[\(i / model.dim), \(i % model.dim)]")
    }
    XCTAssertEqual(Array(g[(3 * model.dim)...]), [0, 0, 0], "relation 3 has no edge in the batch")
    XCTAssertGreaterThan(g.prefix(3 * model.dim).map(abs).max()!, 1e-3, "translations are trained (the original detaches them)")
  }

  /// Records what a fused optimizer receives, without updating anything.
  final class CapturingOptimizer: SparseRowOptimizer {
    var schedule = LearningRateSchedule.constant(0)
    var iteration = 0
    var state: [String: Tensor] = [:]
    var received: [SparseRowGradient] = []
    func apply(to table: Parameter, gradient: SparseRowGradient) throws { received.append(gradient) }
  }

  func testFusedOptimizerGetsOneSparseGradientPerTablePerStepWithOnlyTheRowsLookedUp() throws {
    let (model, batch, negs, loss) = try setup()
    let reference = try setup()
    try reference.3(reference.0, reference.1, negatives: reference.2).loss.backward()
    let capture = model.tables.map { _ in CapturingOptimizer() }
    for (k, c) in capture.enumerated() { model.fuse(table: k, c) }
    try loss(model, batch, negatives: negs).loss.backward()
    for (k, c) in capture.enumerated() {
      XCTAssertEqual(c.received.count, 1, "table \(k): one fused update per step")
      let expected = try XCTUnwrap(reference.0.tables[k].sparseGradient)
      XCTAssertEqual(c.received[0].rows, expected.rows)
      XCTAssertEqual(c.received[0].values.shape, [expected.rows.count, model.dim], "only touched rows, never the dense table")
      assertClose(c.received[0].values.scalars, expected.values.scalars, "table \(k) gradient")
      XCTAssertNil(model.tables[k].sparseGradient, "a fused table keeps no gradient")
    }
    // The looked-up rows of `user`: batch lhs of fav/follow, follow rhs, and global negatives.
    var users = Set<Int>()
    for i in 0..<batch.count where [0, 1].contains(batch.relations[i]) { users.insert(batch.lhs[i]) }
    for i in 0..<batch.count where batch.relations[i] == 1 { users.insert(batch.rhs[i]) }
    for n in negs where [0, 1].contains(n.relation) { users.formUnion(n.lhsGlobal) }
    for n in negs where n.relation == 1 { users.formUnion(n.rhsGlobal) }
    XCTAssertEqual(capture[0].received[0].rows, users.sorted())
  }

  func testNegativesAreLabelledZeroWeightedBOverNAndScoredWithTheTranslation() throws {
    let (model, batch, negs, loss) = try setup()
    let out = try noGrad { try loss(model, batch, negatives: negs) }
    let b = batch.count, n = out.negativeCount
    XCTAssertEqual(n, 2 * b * 5)
    XCTAssertEqual(out.labels.scalars, Array(repeating: 1, count: b) + Array(repeating: 0, count: n))
    XCTAssertEqual(out.weights.scalars[b...].allSatisfy { $0 == Float(b) / Float(n) }, true)
    let logits = out.logits.scalars
    for block in out.blocks {
      let r = block.relation
      for (row, p) in block.positions.enumerated() {
        XCTAssertEqual(logits[p], try model.score(lhs: batch.lhs[p], relation: r, rhs: batch.rhs[p]), accuracy: 1e-5)
        for (j, v) in block.rhsCandidates.enumerated() {
          let z = logits[block.rhsNegativeOffset + row * block.rhsCandidates.count + j]
          XCTAssertEqual(z, try model.score(lhs: batch.lhs[p], relation: r, rhs: v), accuracy: 1e-5, "rhs-side negative")
        }
        for (j, u) in block.lhsCandidates.enumerated() {
          let z = logits[block.lhsNegativeOffset + row * block.lhsCandidates.count + j]
          XCTAssertEqual(z, try model.score(lhs: u, relation: r, rhs: batch.rhs[p]), accuracy: 1e-5, "lhs-side negative")
        }
      }
    }
  }

  func testLossIsMeanWeightedBCEOverPositivesAndNegatives() throws {
    let (model, batch, negs, loss) = try setup(seed: 4)
    let out = try noGrad { try loss(model, batch, negatives: negs) }
    let z = out.logits.scalars, y = out.labels.scalars, w = out.weights.scalars
    var total = 0.0
    for i in z.indices {
      let p = 1 / (1 + exp(-Double(z[i])))
      total += Double(w[i]) * -(Double(y[i]) * log(p) + (1 - Double(y[i])) * log(1 - p))
    }
    XCTAssertEqual(Double(out.loss.item!), total / Double(z.count), accuracy: 1e-6)
  }
}
