import TMLTensor
import XCTest
@testable import TwHIN

/// In-batch and global negative sampling.
final class TwHINNegativeSamplerTests: XCTestCase {
  func batch() throws -> (GraphSchema, EdgeBatch) {
    let schema = try TwHINFixtures.goldenSchema()
    return (schema, try EdgeBatch(lhs: [0, 1, 2, 3, 4, 5, 6], relations: [0, 0, 0, 0, 2, 0, 2], rhs: [0, 1, 2, 3, 4, 5, 1], schema: schema))
  }

  func testOneEntryPerPresentRelationWithSInBatchAndGGlobalPerSide() throws {
    let (schema, b) = try batch()
    var rng = RandomGenerator(seed: 3)
    let negs = try NegativeSampler(inBatchNegatives: 4, globalNegatives: 3).sample(b, schema: schema, using: &rng)
    XCTAssertEqual(negs.map(\.relation), [0, 2])
    for n in negs {
      let count = b.positionsByRelation[n.relation].count
      XCTAssertEqual(n.lhsInBatch.count, 4)
      XCTAssertEqual(n.rhsInBatch.count, 4)
      XCTAssertTrue((n.lhsInBatch + n.rhsInBatch).allSatisfy { (0..<count).contains($0) })
      XCTAssertTrue(n.lhsGlobal.allSatisfy { (0..<schema.tables[schema.lhsTable[n.relation]].numEmbeddings).contains($0) })
      XCTAssertTrue(n.rhsGlobal.allSatisfy { (0..<schema.tables[schema.rhsTable[n.relation]].numEmbeddings).contains($0) })
      XCTAssertEqual(n.lhsGlobal.count, 3)
      XCTAssertEqual(n.rhsGlobal.count, 3)
    }
  }

  func testInBatchDrawsWithoutReplacementWhileSFitsAndCyclesThePermutationBeyond() throws {
    let (schema, b) = try batch()
    var rng = RandomGenerator(seed: 5)
    let negs = try NegativeSampler(inBatchNegatives: 5).sample(b, schema: schema, using: &rng)
    let fav = negs[0]  // 5 edges: a permutation of 0..<5
    XCTAssertEqual(fav.lhsInBatch.sorted(), [0, 1, 2, 3, 4])
    let authored = negs[1]  // 2 edges: the permutation repeated (the original's randperm(R).repeat(...)[:S])
    XCTAssertEqual(Array(authored.rhsInBatch[0..<2]), Array(authored.rhsInBatch[2..<4]))
    XCTAssertEqual(Set(authored.rhsInBatch), [0, 1])
    XCTAssertTrue(fav.lhsGlobal.isEmpty)
  }

  func testSameSeedSameNegativesAndTheStreamAdvances() throws {
    let (schema, b) = try batch()
    let s = try NegativeSampler(inBatchNegatives: 3, globalNegatives: 2)
    var r1 = RandomGenerator(seed: 42, stream: 7), r2 = RandomGenerator(seed: 42, stream: 7)
    let first = s.sample(b, schema: schema, using: &r1)
    XCTAssertEqual(first, s.sample(b, schema: schema, using: &r2))
    XCTAssertNotEqual(first, s.sample(b, schema: schema, using: &r1))
  }

  func testZeroNegativesGivesPositivesOnly() throws {
    let (schema, b) = try batch()
    let model = try TwHINModel(schema: schema, dim: 2)
    var rng = RandomGenerator(seed: 0)
    let out = try TwHINLoss(inBatchNegatives: 0)(model, b, using: &rng)
    XCTAssertEqual(out.negativeCount, 0)
    XCTAssertEqual(out.logits.shape, [b.count])
  }

  func testRhsOnlySidesDrawNoLhsCandidatesAndBothSidesKeepTheOriginalDrawOrder() throws {
    let (schema, b) = try batch()
    var r1 = RandomGenerator(seed: 9), r2 = RandomGenerator(seed: 9)
    let both = try NegativeSampler(inBatchNegatives: 3, globalNegatives: 2).sample(b, schema: schema, using: &r1)
    // Both sides, by hand: per relation, lhs permutation, rhs permutation, lhs globals, rhs globals.
    for n in both {
      let count = b.positionsByRelation[n.relation].count
      let lp = r2.permutation(count), rp = r2.permutation(count)
      XCTAssertEqual(n.lhsInBatch, (0..<3).map { lp[$0 % count] })
      XCTAssertEqual(n.rhsInBatch, (0..<3).map { rp[$0 % count] })
      let nl = schema.tables[schema.lhsTable[n.relation]].numEmbeddings, nr = schema.tables[schema.rhsTable[n.relation]].numEmbeddings
      XCTAssertEqual(n.lhsGlobal, (0..<2).map { _ in r2.int(below: nl) })
      XCTAssertEqual(n.rhsGlobal, (0..<2).map { _ in r2.int(below: nr) })
    }
    var r3 = RandomGenerator(seed: 9)
    let rhsOnly = try NegativeSampler(inBatchNegatives: 3, globalNegatives: 2, sides: [.rhs]).sample(b, schema: schema, using: &r3)
    XCTAssertEqual(rhsOnly.map(\.relation), [0, 2])
    for n in rhsOnly {
      XCTAssertEqual([n.lhsCount, n.rhsInBatch.count, n.rhsGlobal.count], [0, 3, 2])
    }
    var r4 = RandomGenerator(seed: 9)
    let lhsOnly = try NegativeSampler(inBatchNegatives: 3, globalNegatives: 2, sides: [.lhs]).sample(b, schema: schema, using: &r4)
    XCTAssertEqual(lhsOnly.map { [$0.lhsCount, $0.rhsCount] }, [[5, 0], [5, 0]])
    XCTAssertThrowsError(try NegativeSampler(inBatchNegatives: 3, sides: [])) { XCTAssertTrue("\($0)".contains("negative_sides"), "\($0)") }
  }

  func testRhsOnlyNegativesScoreEachLhsAgainstOtherRhsAndTrainLikeTheTape() throws {
    let (schema, b) = try batch()
    let model = try TwHINModel(schema: schema, dim: 3, embeddingInit: .normal(std: 0.3), seed: 2)
    var rng = RandomGenerator(seed: 4)
    let loss = try TwHINLoss(inBatchNegatives: 2, globalNegatives: 1, sides: [.rhs])
    let out = try loss(model, b, using: &rng)
    XCTAssertEqual(out.negativeCount, b.count * 3, "R·K_r per relation, no lhs-side block")
    XCTAssertTrue(out.blocks.allSatisfy { $0.lhsCandidates.isEmpty && $0.rhsCandidates.count == 3 })
    // The fused kernels and the autograd tape make the same update with an empty lhs side.
    func trained(fused: Bool) throws -> [[Float]] {
      let m = try TwHINModel(schema: schema, dim: 3, embeddingInit: .normal(std: 0.3), seed: 2)
      let trainer = try TwHINTrainer(model: m, loss: loss, tableOptimizers: Array(repeating: .adagrad(.constant(0.1)), count: schema.tables.count),
                                     translationOptimizer: .sgd(.constant(0.1)), seed: 1)
      trainer.useFusedKernels = fused
      for _ in 0..<3 { try trainer.step(b) }
      return m.stateDict().entries.map { $0.1.tensor.scalars }
    }
    for (x, y) in zip(try trained(fused: true), try trained(fused: false)) { assertClose(x, y, abs: 2e-6, rel: 2e-5, "rhs-only step") }
  }
}
