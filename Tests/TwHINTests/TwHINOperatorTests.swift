import Foundation
import TMLNN
import TMLTensor
import XCTest
@testable import TwHIN

/// The diagonal (DistMult) and complex (ComplEx) relation operators: scores, gradients
/// against finite differences, the fused kernels against the tape, and candidate scoring
/// of both sides against `score`.
final class TwHINOperatorTests: XCTestCase {
  /// The golden schema with every operator: fav diagonal, follow (user → user) complex,
  /// authored_by translation, reply complex.
  func mixedSchema() throws -> GraphSchema {
    let ops: [RelationOperator] = [.diagonal, .complex, .translation, .complex]
    let g = try TwHINFixtures.goldenSchema()
    return try GraphSchema(tables: g.tables, relations: zip(g.relations, ops).map {
      RelationSpec(name: $0.name, lhs: $0.lhs, rhs: $0.rhs, operator: $1)
    })
  }

  func model(dim: Int = 4, seed: UInt64 = 1) throws -> TwHINModel {
    try TwHINModel(schema: try mixedSchema(), dim: dim, embeddingInit: .normal(std: 0.7), translationInit: .normal(std: 0.8),
                   identityOperators: false, seed: seed)
  }

  func testScoresAreDistMultAndComplEx() throws {
    let m = try model()
    let d = m.dim, h = d / 2
    let u = m.tables[0].weight.value.scalars, w = m.translations.value.scalars
    let tw = m.tables[1].weight.value.scalars
    // fav (diagonal): Σ_j u_j t_j v_j
    let (a, v) = (3, 5)
    var want: Float = 0
    for j in 0..<d { want += u[a * d + j] * w[0 * d + j] * tw[v * d + j] }
    XCTAssertEqual(try m.score(lhs: a, relation: 0, rhs: v), want, accuracy: 1e-5)
    // follow (complex): Re Σ_j conj(u_j) t_j v_j with complex u_j = u[j] + i·u[h + j]
    let (p, q) = (2, 6)
    var re: Float = 0
    for j in 0..<h {
      let (ur, ui) = (u[p * d + j], u[p * d + h + j]), (tr, ti) = (w[1 * d + j], w[1 * d + h + j])
      let (vr, vi) = (u[q * d + j], u[q * d + h + j])
      let (xr, xi) = (tr * vr - ti * vi, tr * vi + ti * vr)  // t·v
      re += ur * xr + ui * xi                                 // Re(conj(u)·t·v)
    }
    XCTAssertEqual(try m.score(lhs: p, relation: 1, rhs: q), re, accuracy: 1e-5)
    XCTAssertNotEqual(try m.score(lhs: p, relation: 1, rhs: q), try m.score(lhs: q, relation: 1, rhs: p), accuracy: 1e-4,
                      "complex scores are not symmetric")
  }

  func testGradientsOfEveryOperatorMatchFiniteDifferences() throws {
    let m = try model(seed: 3)
    let schema = m.schema
    let batch = try EdgeBatch(lhs: [0, 2, 0, 3, 5, 1, 2, 4], relations: [0, 1, 0, 2, 3, 1, 2, 3], rhs: [1, 4, 6, 0, 1, 2, 4, 7], schema: schema)
    let loss = try TwHINLoss(inBatchNegatives: 3, globalNegatives: 2)
    var rng = RandomGenerator(seed: 4, stream: 9)
    let negs = loss.sampler.sample(batch, schema: schema, using: &rng)
    func value() throws -> Double { Double(try noGrad { try loss(m, batch, negatives: negs).loss.item! }) }
    func numeric(_ p: Parameter, _ i: Int, h: Float = 1e-2) throws -> Double {
      let x = p.value.scalars[i]
      p.value.withUnsafeMutableBufferPointer { $0[i] = x + h }
      let up = try value()
      p.value.withUnsafeMutableBufferPointer { $0[i] = x - h }
      let down = try value()
      p.value.withUnsafeMutableBufferPointer { $0[i] = x }
      return (up - down) / (2 * Double(h))
    }
    try loss(m, batch, negatives: negs).loss.backward()
    let gt = try XCTUnwrap(m.translations.grad).scalars
    for i in 0..<gt.count {
      let n = try numeric(m.translations, i)
      XCTAssertEqual(Double(gt[i]), n, accuracy: 1e-5 + 1e-3 * abs(n), "relation \(schema.relations[i / m.dim].name) [\(i % m.dim)]")
    }
    for (k, table) in m.tables.enumerated() {
      let dense = try XCTUnwrap(table.sparseGradient).dense(numRows: table.numEmbeddings).scalars
      for i in 0..<dense.count {
        let n = try numeric(table.weight, i)
        XCTAssertEqual(Double(dense[i]), n, accuracy: 1e-5 + 1e-3 * abs(n), "table \(schema.tables[k].name) [\(i / m.dim), \(i % m.dim)]")
      }
    }
  }

  func trained(fused: Bool, dim: Int) throws -> (losses: [Float], state: [[Float]]) {
    let m = try model(dim: dim, seed: 5)
    let trainer = try TwHINTrainer(model: m, loss: try TwHINLoss(inBatchNegatives: 3, globalNegatives: 2),
                                   tableOptimizers: [.sgd(.constant(0.3)), .adagrad(.constant(0.2)), .rowWiseAdagrad(.constant(0.2))],
                                   translationOptimizer: .adagrad(.constant(0.1)), seed: 7)
    trainer.useFusedKernels = fused
    var rng = RandomGenerator(seed: 11)
    var losses: [Float] = []
    let schema = m.schema
    for _ in 0..<3 {
      let rel = (0..<25).map { _ in rng.int(below: 4) }
      let lhs = rel.map { rng.int(below: schema.tables[schema.lhsTable[$0]].numEmbeddings) }
      let rhs = rel.map { rng.int(below: schema.tables[schema.rhsTable[$0]].numEmbeddings) }
      losses.append(try trainer.step(try EdgeBatch(lhs: lhs, relations: rel, rhs: rhs, schema: schema)).loss)
    }
    return (losses, m.stateDict().entries.map { $0.1.tensor.scalars })
  }

  func testFusedKernelsEqualTheTapeForEveryOperator() throws {
    for dim in [4, 18] {
      let a = try trained(fused: true, dim: dim), b = try trained(fused: false, dim: dim)
      assertClose(a.losses, b.losses, abs: 1e-6, rel: 1e-5, "losses (dim \(dim))")
      for (x, y) in zip(a.state, b.state) { assertClose(x, y, abs: 2e-6, rel: 2e-5, "parameters (dim \(dim))") }
    }
  }

  func testCandidateScoresOfBothSidesEqualScore() throws {
    let m = try model(dim: 6)
    for r in 0..<m.schema.relations.count {
      let (a, b) = (m.schema.lhsTable[r], m.schema.rhsTable[r])
      let lhs = Array(0..<m.schema.tables[a].numEmbeddings), rhs = Array(0..<m.schema.tables[b].numEmbeddings)
      try m.forEachScoreRow(queries: lhs, relation: r, ranking: .tail) { i, row in
        for v in rhs { XCTAssertEqual(row[v], try m.score(lhs: lhs[i], relation: r, rhs: v), accuracy: 1e-5) }
      }
      try m.forEachScoreRow(queries: rhs, relation: r, ranking: .head, blockBytes: 16) { i, row in
        for u in lhs { XCTAssertEqual(row[u], try m.score(lhs: u, relation: r, rhs: rhs[i]), accuracy: 1e-5) }
      }
    }
  }

  func testOperatorsStartAtTheIdentityAndComplexNeedsAnEvenDimension() throws {
    let m = try TwHINModel(schema: try mixedSchema(), dim: 4, seed: 1)
    let t = m.translations.value.scalars
    XCTAssertEqual(Array(t[0..<4]), [1, 1, 1, 1], "diagonal")
    XCTAssertEqual(Array(t[4..<8]), [1, 1, 0, 0], "complex")
    XCTAssertTrue(t[8..<12].allSatisfy { $0 >= 0 && $0 < 1 } && Set(t[8..<12]).count > 1, "translation keeps U(0, 1)")
    XCTAssertThrowsError(try TwHINModel(schema: try mixedSchema(), dim: 5)) { e in
      XCTAssertTrue("\(e)".contains("follow") && "\(e)".contains("even"), "\(e)")
    }
  }

  func testConfigAcceptsTheOperatorsAndDefaultsToTranslation() throws {
    for (text, want) in [("operator: diagonal", RelationOperator.diagonal), ("operator: complex", .complex), ("", .translation)] {
      let yaml = """
      model:
        translation_optimizer: {sgd: {lr: 0.1}}
        embeddings:
          tables: [{name: entity, num_embeddings: 5, embedding_dim: 4, data_type: fp32, optimizer: {sgd: {lr: 0.1}}}]
        relations:
          - {name: r, lhs: entity, rhs: entity\(text.isEmpty ? "" : ", " + text)}
      train_data: {data_root: x.parquet, per_replica_batch_size: 4, in_batch_negatives: 1, global_negatives: 0}
      validation_data: {data_root: x.parquet, per_replica_batch_size: 4, in_batch_negatives: 1, global_negatives: 0}
      """
      let config = try TwHINConfig.decode(yaml: yaml, file: "ops.yaml")
      XCTAssertEqual(try config.graphSchema().relations[0].operator, want)
    }
  }
}
