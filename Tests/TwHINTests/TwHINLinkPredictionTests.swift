import TMLMetrics
import TMLTensor
import XCTest
@testable import TwHIN

/// Both-side filtered ranks (`LinkPredictionEvaluator`) against a brute-force reference.
final class TwHINLinkPredictionTests: XCTestCase {
  /// One `entity` table of 7 rows, three relations with the three operators.
  func tinyGraph() throws -> (TwHINModel, train: EdgeList, test: EdgeList) {
    let schema = try GraphSchema(
      tables: [TableSpec(name: "entity", numEmbeddings: 7)],
      relations: [RelationSpec(name: "a", lhs: "entity", rhs: "entity", operator: .translation),
                  RelationSpec(name: "b", lhs: "entity", rhs: "entity", operator: .diagonal),
                  RelationSpec(name: "c", lhs: "entity", rhs: "entity", operator: .complex)])
    let model = try TwHINModel(schema: schema, dim: 4, embeddingInit: .normal(std: 1), translationInit: .normal(std: 1),
                               identityOperators: false, seed: 3)
    // Rows 5 and 6 equal: every query sees a tie between them.
    model.tables[0].weight.value.withUnsafeMutableBufferPointer { p in for j in 0..<4 { p[6 * 4 + j] = p[5 * 4 + j] } }
    let train = try EdgeList(lhs: [0, 0, 1, 2, 3, 4, 0, 2, 5], relations: [0, 0, 1, 1, 2, 2, 2, 0, 1], rhs: [1, 2, 3, 3, 4, 4, 4, 2, 5])
    let test = try EdgeList(lhs: [0, 5, 1, 3, 2, 6], relations: [0, 1, 1, 2, 2, 0], rhs: [3, 3, 0, 1, 4, 5])
    return (model, train, test)
  }

  /// Rank by the definition: 1 + #{better} + ½·#{tied} over every row c ≠ truth whose
  /// triple is not known.
  func bruteRank(_ m: TwHINModel, _ u: Int, _ r: Int, _ v: Int, head: Bool, _ known: Set<[Int]>) throws -> Double {
    let s = try m.score(lhs: u, relation: r, rhs: v)
    var rank = 1.0
    for c in 0..<7 {
      let triple = head ? [c, r, v] : [u, r, c]
      if c == (head ? u : v) || known.contains(triple) { continue }
      let x = try head ? m.score(lhs: c, relation: r, rhs: v) : m.score(lhs: u, relation: r, rhs: c)
      if x > s { rank += 1 } else if x == s { rank += 0.5 }
    }
    return rank
  }

  func testBothSidedFilteredRanksEqualBruteForce() throws {
    let (model, train, test) = try tinyGraph()
    var set = Set<[Int]>()
    for l in [train, test] { for i in 0..<l.count { set.insert([l.lhs[i], l.relations[i], l.rhs[i]]) } }
    let got = try LinkPredictionEvaluator(hitsAt: [1, 3, 10]).evaluate(model, edges: test, known: KnownEdges([train, test]))
    var head = try RankingAccumulator(hitsAt: [1, 3, 10]), tail = head, both = head
    var sawTie = false
    for i in 0..<test.count {
      let (u, r, v) = (test.lhs[i], test.relations[i], test.rhs[i])
      let t = try bruteRank(model, u, r, v, head: false, set), h = try bruteRank(model, u, r, v, head: true, set)
      if t != t.rounded() || h != h.rounded() { sawTie = true }
      try tail.append(rank: t); try head.append(rank: h); try both.append(rank: t); try both.append(rank: h)
    }
    XCTAssertTrue(sawTie, "the fixture exercises the realistic tie rule")
    for (name, g, w) in [("head", got.head, try head.compute()), ("tail", got.tail, try tail.compute()), ("both", got.both, try both.compute())] {
      XCTAssertEqual(g.count, w.count, name)
      XCTAssertEqual(g.mrr, w.mrr, accuracy: 1e-12, name)
      XCTAssertEqual(g.meanRank, w.meanRank, accuracy: 1e-12, name)
      XCTAssertEqual(g.hits, w.hits, name)
    }
    XCTAssertEqual(got.both.count, 2 * test.count)
  }

  /// `tml twhin eval` takes the all-candidates summary from the both-side ranking's tail
  /// ranks instead of ranking the tails twice: they are the same ranks.
  func testTheTailRanksAreTheAllCandidatesRanks() throws {
    let (model, train, test) = try tinyGraph()
    let known = KnownEdges([train, test])
    let lp = try LinkPredictionEvaluator()
    let ranks = try lp.ranks(model, edges: test, known: known)
    XCTAssertEqual(ranks.tail.count, test.count)
    XCTAssertEqual(try lp.summary(ranks), try lp.evaluate(model, edges: test, known: known))
    let evaluator = try TwHINEvaluator(loss: TwHINLoss(inBatchNegatives: 2, globalNegatives: 2), batchSize: 4, hitsAt: [1, 3, 10])
    let direct = try evaluator.rankAgainstAllCandidates(model, edges: test, known: known)
    var fromTails = try RankingAccumulator(hitsAt: [1, 3, 10])
    for r in ranks.tail { try fromTails.append(rank: r) }
    let derived = try fromTails.compute()
    XCTAssertEqual(derived.count, direct.count)
    XCTAssertEqual(derived.mrr, direct.mrr, accuracy: 1e-12)
    XCTAssertEqual(derived.meanRank, direct.meanRank, accuracy: 1e-12)
    XCTAssertEqual(derived.hits, direct.hits)
  }

  func testFilteringRemovesOtherTrueAnswersButKeepsTheQuerysOwn() throws {
    let (model, train, test) = try tinyGraph()
    // Edge (0, a, 3): filtered, the other true tails 1 and 2 of (0, a) are not candidates.
    let one = try EdgeList(lhs: [0], relations: [0], rhs: [3])
    let lp = try LinkPredictionEvaluator(hitsAt: [1])
    let raw = try lp.evaluate(model, edges: one, known: KnownEdges())
    let filtered = try lp.evaluate(model, edges: one, known: KnownEdges([train, test]))
    var better = 0.0
    for c in [1, 2] where try model.score(lhs: 0, relation: 0, rhs: c) > model.score(lhs: 0, relation: 0, rhs: 3) { better += 1 }
    XCTAssertEqual(1 / raw.tail.mrr - 1 / filtered.tail.mrr, better, accuracy: 1e-9)
    XCTAssertLessThanOrEqual(1 / filtered.tail.mrr, 1 / raw.tail.mrr)
  }

  func testHeadIndexOfKnownEdges() throws {
    let known = KnownEdges([try EdgeList(lhs: [0, 2, 0], relations: [1, 1, 0], rhs: [5, 5, 5])])
    XCTAssertEqual(known.lhs(relation: 1, rhs: 5), [0, 2])
    XCTAssertEqual(known.lhs(relation: 0, rhs: 5), [0])
    XCTAssertEqual(known.lhs(relation: 0, rhs: 4), [])
  }
}
