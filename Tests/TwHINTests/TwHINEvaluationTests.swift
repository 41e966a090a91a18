import TMLMetrics
import TMLTensor
import XCTest
@testable import TwHIN

/// Ranks against all candidates (GEMM) and in-batch negatives, against brute force.
final class TwHINEvaluationTests: XCTestCase {
  func fixture() throws -> (PlantedGraph, TwHINModel) {
    let g = try PlantedGraph(.init(users: 40, authors: 15, tweets: 50, communities: 3, degrees: [3, 4, 2, 2], seed: 2))
    return (g, try TwHINModel(schema: g.schema, dim: 5, embeddingInit: .normal(std: 0.5), seed: 4))
  }

  /// 1 + #{higher} + ½·#{tied}, over every rhs row except the truth and the excluded.
  func bruteRank(_ m: TwHINModel, _ u: Int, _ r: Int, _ v: Int, _ known: KnownEdges?) throws -> Double {
    let n = m.schema.tables[m.schema.rhsTable[r]].numEmbeddings
    let s = try m.score(lhs: u, relation: r, rhs: v)
    var rank = 1.0
    for c in 0..<n where c != v && !(known?.contains(lhs: u, relation: r, rhs: c) ?? false) {
      let x = try m.score(lhs: u, relation: r, rhs: c)
      if x > s { rank += 1 } else if x == s { rank += 0.5 }
    }
    return rank
  }

  func testAllCandidateRanksEqualBruteForceFilteredAndUnfiltered() throws {
    let (g, model) = try fixture()
    let known = KnownEdges([g.train, g.heldOut])
    let ev = try TwHINEvaluator(loss: try TwHINLoss(inBatchNegatives: 4), batchSize: 16)
    for filter in [nil, known] {
      var expected = try RankingAccumulator()
      for i in 0..<g.heldOut.count {
        try expected.append(rank: try bruteRank(model, g.heldOut.lhs[i], g.heldOut.relations[i], g.heldOut.rhs[i], filter))
      }
      let got = try ev.rankAgainstAllCandidates(model, edges: g.heldOut, known: filter)
      let want = try expected.compute()
      XCTAssertEqual(got.count, want.count)
      XCTAssertEqual(got.mrr, want.mrr, accuracy: 1e-9)
      XCTAssertEqual(got.meanRank, want.meanRank, accuracy: 1e-9)
      XCTAssertEqual(got.hits, want.hits)
    }
  }

  func testFilteringNeverWorsensRanks() throws {
    let (g, model) = try fixture()
    let ev = try TwHINEvaluator(loss: try TwHINLoss(inBatchNegatives: 4), batchSize: 16)
    let raw = try ev.rankAgainstAllCandidates(model, edges: g.heldOut)
    let filtered = try ev.rankAgainstAllCandidates(model, edges: g.heldOut, known: KnownEdges([g.train, g.heldOut]))
    XCTAssertLessThan(filtered.meanRank, raw.meanRank)
    XCTAssertGreaterThan(filtered.mrr, raw.mrr)
  }

  func testInBatchRanksAndAUCMatchTheScoresOfTheSampledNegatives() throws {
    let (g, model) = try fixture()
    let loss = try TwHINLoss(inBatchNegatives: 5, globalNegatives: 2)
    let edges = g.heldOut.prefix(20)
    let ev = try TwHINEvaluator(loss: loss, batchSize: 20, rankAllCandidates: false, seed: 8)
    let m = try ev.evaluate(model, edges: edges)
    XCTAssertNil(m.allCandidates)
    // Recompute with the evaluator's stream: same negatives, ranks by hand.
    var rng = RandomGenerator(seed: 8, stream: 0x6576_616C)
    let batch = try edges.batches(of: 20, schema: model.schema)[0]
    let out = try loss(model, batch, using: &rng)
    let z = out.logits.scalars
    var acc = try RankingAccumulator()
    for block in out.blocks {
      let k = block.rhsCandidates.count
      for (row, p) in block.positions.enumerated() {
        let skip = block.rhsCandidates.indices.filter { block.rhsCandidates[$0] == batch.rhs[p] }
        try acc.append(score: z[p], candidates: Array(z[(block.rhsNegativeOffset + row * k)..<(block.rhsNegativeOffset + (row + 1) * k)]), excluding: skip)
      }
    }
    XCTAssertEqual(m.inBatch, try acc.compute())
    XCTAssertEqual(m.sampledAUC, try SampledAUC.compute(positiveScores: out.positiveScores, negativeScores: out.negativeScores), accuracy: 1e-12)
    XCTAssertEqual(m.loss, Double(out.loss.item!), accuracy: 1e-7)
    XCTAssertEqual(m.dictionary["in_batch/mrr"], m.inBatch.mrr)
  }

  func testEvaluationLeavesTheModelUnchanged() throws {
    let (g, model) = try fixture()
    let before = model.stateDict().entries.map { $0.1.tensor.scalars }
    _ = try TwHINEvaluator(loss: try TwHINLoss(inBatchNegatives: 3, globalNegatives: 1), batchSize: 8).evaluate(model, edges: g.heldOut)
    XCTAssertEqual(model.stateDict().entries.map { $0.1.tensor.scalars }, before)
    XCTAssertTrue(model.isTraining, "training mode is restored")
  }

  func testSmallScoreBlocksGiveTheSameRows() throws {
    let (g, model) = try fixture()
    let lhs = Array(g.train.lhs.prefix(9))
    var big: [[Float]] = [], small: [[Float]] = []
    try model.forEachScoreRow(lhs: lhs, relation: 1) { _, row in big.append(Array(row)) }
    try model.forEachScoreRow(lhs: lhs, relation: 1, blockBytes: 50 * 4 * 2) { _, row in small.append(Array(row)) }
    XCTAssertEqual(big, small)
    XCTAssertEqual(big[3][7], try model.score(lhs: lhs[3], relation: 1, rhs: 7), accuracy: 1e-5)
  }
}
