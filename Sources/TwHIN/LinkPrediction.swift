import TMLMetrics
import TMLTrain

/// Filtered link-prediction metrics of both sides, as the knowledge-graph literature
/// reports them (Bordes et al. 2013; PyKEEN's `RankBasedEvaluator`): `tail` ranks the true
/// rhs of each edge for (u, r, ?), `head` the true lhs for (?, r, v), and `both` pools the
/// two ranks of every edge (2 per edge).
public struct LinkPredictionSummary: Equatable, Sendable {
  public var head: RankingSummary
  public var tail: RankingSummary
  public var both: RankingSummary

  /// `both/mrr`, `head/hits@1`, `tail/mean_rank`, …
  public var dictionary: [String: Double] {
    var d: [String: Double] = [:]
    for (side, s) in [("head", head), ("tail", tail), ("both", both)] {
      for (k, v) in s.dictionary { d["\(side)/\(k)"] = v }
    }
    return d
  }
}

/// Ranks every held-out edge (u, r, v) against **every** entity of each side, filtered:
///
///     tail rank of v among {v' : (u, r, v') ∉ known} ∪ {v},   scores ⟨e_u, op_r(e_v')⟩
///     head rank of u among {u' : (u', r, v) ∉ known} ∪ {u},   scores ⟨e_u', op_r(e_v)⟩
///
/// with `known` holding every true edge (train, valid and test), the query's own answer
/// kept, and the realistic tie rule (`Rank.realistic`: the mean of the optimistic and the
/// pessimistic rank). The query entity itself stays a candidate unless (u, r, u) is known
/// (as in PyKEEN and PBG). Both sides are exact GEMMs for every operator
/// (`forEachScoreRow(queries:relation:ranking:)`), so head prediction needs no inverse
/// relations. MRR = mean 1/rank, Hits@K = P(rank ≤ K).
///
///     let lp = try LinkPredictionEvaluator()
///     let m = try lp.evaluate(model, edges: test, known: KnownEdges([train, valid, test]))
///     m.both.mrr, m.tail.hits[10]
public struct LinkPredictionEvaluator: Sendable {
  public var hitsAt: [Int]

  public init(hitsAt: [Int] = [1, 3, 10]) throws {
    _ = try RankingAccumulator(hitsAt: hitsAt)
    self.hitsAt = hitsAt
  }

  public func evaluate(_ model: TwHINModel, edges: EdgeList, known: KnownEdges) throws -> LinkPredictionSummary {
    try summary(try ranks(model, edges: edges, known: known))
  }

  /// Every held-out edge's filtered tail and head rank (relation by relation, in the same
  /// order on both sides); `progress` counts the queries ranked (`eval all candidates`,
  /// two per edge).
  public func ranks(_ model: TwHINModel, edges: EdgeList, known: KnownEdges,
                    progress: (WorkProgress) -> Void = { _ in }) throws -> (head: [Double], tail: [Double]) {
    guard edges.count > 0 else { throw TwHINError("link prediction: no held-out edges to rank") }
    let batch = try EdgeBatch(lhs: edges.lhs, relations: edges.relations, rhs: edges.rhs, schema: model.schema)
    var head: [Double] = [], tail: [Double] = []
    var ranked = 0
    for r in batch.presentRelations {
      let positions = batch.positionsByRelation[r]
      for side in EdgeSide.allCases {
        let queries = positions.map { side == .tail ? batch.lhs[$0] : batch.rhs[$0] }
        var ranks = [Double](repeating: 0, count: positions.count)
        try model.forEachScoreRow(queries: queries, relation: r, ranking: side) { i, scores in
          let (u, v) = (batch.lhs[positions[i]], batch.rhs[positions[i]])
          let truth = side == .tail ? v : u
          let others = side == .tail ? known.rhs(lhs: u, relation: r) : known.lhs(relation: r, rhs: v)
          ranks[i] = try LinkPredictionEvaluator.filteredRank(scores, truth: truth, excluding: others)
          ranked += 1
          progress(WorkProgress("eval all candidates", done: ranked, total: 2 * batch.count, unit: .edges))
        }
        if side == .tail { tail += ranks } else { head += ranks }
      }
    }
    return (head, tail)
  }

  /// Head, tail and both-side summaries of `ranks`.
  public func summary(_ ranks: (head: [Double], tail: [Double])) throws -> LinkPredictionSummary {
    var head = try RankingAccumulator(hitsAt: hitsAt), tail = head, both = head
    for rank in ranks.tail { try tail.append(rank: rank); try both.append(rank: rank) }
    for rank in ranks.head { try head.append(rank: rank); try both.append(rank: rank) }
    return LinkPredictionSummary(head: try head.compute(), tail: try tail.compute(), both: try both.compute())
  }

  /// 1 + #{c ∉ E ∪ {truth} : s_c > s_truth} + ½·#{c ∉ E ∪ {truth} : s_c = s_truth}; a NaN score is an error.
  static func filteredRank(_ scores: UnsafeBufferPointer<Float>, truth: Int, excluding: Set<Int>) throws -> Double {
    let s = scores[truth]
    guard !s.isNaN else { throw TwHINError("link prediction: the score of the true entity \(truth) is NaN; the model's parameters are not finite") }
    var higher = 0, tied = 0
    for (c, x) in scores.enumerated() {
      if x > s { higher += 1 } else if x == s { tied += 1 } else if x.isNaN {
        throw TwHINError("link prediction: the score of candidate \(c) is NaN; the model's parameters are not finite")
      }
    }
    tied -= 1  // the truth itself
    for c in excluding where c != truth {
      let x = scores[c]
      if x > s { higher -= 1 } else if x == s { tied -= 1 }
    }
    return 1 + Double(higher) + 0.5 * Double(tied)
  }
}
