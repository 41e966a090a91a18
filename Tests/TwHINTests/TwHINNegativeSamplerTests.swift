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
}
