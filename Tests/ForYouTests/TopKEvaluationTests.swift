import Foundation
import XCTest
@testable import ForYou
import TMLTensor
import TwHIN

/// `tml data movielens-eval`: Recall@k / NDCG@k against a brute-force computation,
/// the candidate set, the popularity baseline and BPR's gradient.
final class TopKEvaluationTests: XCTestCase {
  func testOneListsMetricsMatchTheFormulas() {
    // positives {1, 5}: item 1 at rank 2, item 5 not in the top 2.
    let m = TopKEvaluation.metrics(ranked: [3, 1, 2], positives: [1, 5], k: 2)
    XCTAssertEqual(m.recall, 0.5)
    XCTAssertEqual(m.ndcg, (1 / log2(3.0)) / (1 + 1 / log2(3.0)), accuracy: 1e-12)
    XCTAssertEqual(TopKEvaluation.metrics(ranked: [5, 1], positives: [1, 5], k: 2).ndcg, 1, accuracy: 1e-12)
  }

  func testMeanMetricsMatchABruteForceSortOverUnratedItems() throws {
    var rng = RandomGenerator(seed: 3)
    let items = 12, k = 4
    var train: [Set<Int>] = [], positives: [Set<Int>] = []
    for u in 0..<6 {
      let shuffled = Array(0..<items).shuffled(using: &rng)
      train.append(Set(shuffled.prefix(3)))
      positives.append(u == 2 ? [] : Set(shuffled[3..<(4 + u % 3)]))  // user 2 has no positives: not evaluated
    }
    let task = RecommendationTask(items: items, trainItems: train, positives: positives)
    // Scores on a coarse grid so that ties occur; a tie goes to the smaller item.
    let scores = (0..<6).map { _ in (0..<items).map { _ in Float(Int.random(in: 0..<4, using: &rng)) } }
    let result = try TopKEvaluation.evaluate(task, k: k) { users, body in
      for (i, u) in users.enumerated() { try scores[u].withUnsafeBufferPointer { try body(i, $0) } }
    }
    var recall = 0.0, ndcg = 0.0
    for u in 0..<6 where !positives[u].isEmpty {
      let ranked = (0..<items).filter { !train[u].contains($0) }.sorted { (-scores[u][$0], $0) < (-scores[u][$1], $1) }
      let top = Array(ranked.prefix(k))
      recall += Double(top.filter { positives[u].contains($0) }.count) / Double(positives[u].count)
      var dcg = 0.0, idcg = 0.0
      for r in 0..<k {
        if positives[u].contains(top[r]) { dcg += 1 / log2(Double(r) + 2) }
        if r < positives[u].count { idcg += 1 / log2(Double(r) + 2) }
      }
      ndcg += dcg / idcg
    }
    XCTAssertEqual(result.users, 5)
    XCTAssertEqual(result.recall, recall / 5, accuracy: 1e-12)
    XCTAssertEqual(result.ndcg, ndcg / 5, accuracy: 1e-12)
  }

  func testTopKSkipsTrainingItemsAndBreaksTiesBySmallerItem() {
    let scores: [Float] = [1, 9, 5, 5, 7]
    scores.withUnsafeBufferPointer {
      XCTAssertEqual(TopKEvaluation.topK($0, k: 3, excluding: [1]), [4, 2, 3])
      XCTAssertEqual(TopKEvaluation.topK($0, k: 10, excluding: []), [1, 4, 2, 3, 0])
    }
  }

  func testPopularityCountsTrainingRatings() {
    let task = RecommendationTask(items: 4, trainItems: [[0, 2], [2], [2, 3]], positives: [[], [], []])
    XCTAssertEqual(TopKEvaluation.popularity(task), [1, 0, 3, 1])
  }

  func testBPRGradientMatchesFiniteDifferences() {
    var bpr = BPR(users: 2, items: 3, dim: 4, seed: 1)
    bpr.b = [0.3, -0.2, 0.1]
    let (u, i, j, lambda) = (1, 0, 2, Float(0.05))
    let g = bpr.gradient(u, i, j, lambda: lambda)
    let h: Float = 1e-2
    func numeric(_ bump: (inout BPR, Float) -> Void) -> Float {
      var plus = bpr, minus = bpr
      bump(&plus, h)
      bump(&minus, -h)
      return (plus.loss(u, i, j, lambda: lambda) - minus.loss(u, i, j, lambda: lambda)) / (2 * h)
    }
    for d in 0..<4 {
      XCTAssertEqual(g.pu[d], numeric { $0.p[u * 4 + d] += $1 }, accuracy: 2e-3, "p_u[\(d)]")
      XCTAssertEqual(g.qi[d], numeric { $0.q[i * 4 + d] += $1 }, accuracy: 2e-3, "q_i[\(d)]")
      XCTAssertEqual(g.qj[d], numeric { $0.q[j * 4 + d] += $1 }, accuracy: 2e-3, "q_j[\(d)]")
    }
    XCTAssertEqual(g.bi, numeric { $0.b[i] += $1 }, accuracy: 2e-3)
    XCTAssertEqual(g.bj, numeric { $0.b[j] += $1 }, accuracy: 2e-3)
  }

  func testBPRLearnsAPlantedPreference() throws {
    // Two groups of users; group g rates items of its own half. Each user holds out one item of its half.
    var train: [Set<Int>] = [], positives: [Set<Int>] = []
    for u in 0..<20 {
      let half = Array((u % 2 == 0 ? 0..<10 : 10..<20))
      let held = half[u / 2 % 10]
      train.append(Set(half.filter { $0 != held && $0 != half[(u / 2 + 1) % 10] }))
      positives.append([held])
    }
    let task = RecommendationTask(items: 20, trainItems: train, positives: positives)
    var bpr = BPR(users: 20, items: 20, dim: 8, seed: 0)
    let before = try bpr.evaluate(task, k: 2)
    bpr.train(task, epochs: 200, learningRate: 0.1, lambda: 0.001)
    let after = try bpr.evaluate(task, k: 2)
    XCTAssertGreaterThan(after.recall, 0.9, "own-group items left: 2 per user, the held-out one among them")
    XCTAssertGreaterThan(after.recall, before.recall)
  }
}
