import TMLMetrics
import TMLTensor
import TMLTrain

/// Link-prediction metrics of a TwHIN model on held-out edges.
public struct TwHINEvaluation: Equatable, Sendable {
  /// Mean `TwHINLoss` over the evaluation batches.
  public var loss: Double
  /// P(positive score > sampled negative score), ties ½, over all pairs (`SampledAUC`).
  public var sampledAUC: Double
  /// Filtered rank of each edge's rhs among its batch's rhs-side negatives.
  public var inBatch: RankingSummary
  /// Filtered rank of each edge's rhs among all rows of the rhs table (nil when skipped).
  public var allCandidates: RankingSummary?
  /// Filtered ranks of both sides against every entity (`LinkPredictionEvaluator`; nil when skipped).
  public var linkPrediction: LinkPredictionSummary? = nil

  /// Flat metrics for logs: `loss`, `auc`, `in_batch/mrr`, `all/hits@10`, `both/mrr`, `head/hits@3`, …
  public var dictionary: [String: Double] {
    var d = ["loss": loss, "auc": sampledAUC]
    for (k, v) in inBatch.dictionary { d["in_batch/\(k)"] = v }
    for (k, v) in allCandidates?.dictionary ?? [:] { d["all/\(k)"] = v }
    for (k, v) in linkPrediction?.dictionary ?? [:] { d[k] = v }
    return d
  }
}

/// Evaluates a TwHIN model on held-out edges (DESIGN §8), without updating it:
///
///     sampled AUC     positives vs all sampled negatives (both sides) of each batch
///     in-batch ranks  rank(v_i) among the rhs-side negatives {v'} of edge i's batch,
///                     each scored s(u_i, r_i, v') = ⟨e_{u_i}, e_{v'} + t_{r_i}⟩
///     all-candidates  rank(v_i) among every row v of the rhs table (GEMM, `forEachScoreRow`)
///     MRR = mean 1/rank, mean rank, Hits@K = P(rank ≤ K)      (TMLMetrics `RankingAccumulator`)
///
/// Ranks are filtered: a candidate v' with (u_i, r_i, v') in `known` (and v_i itself) is
/// removed; ties count half (`Rank.realistic`). Negatives come from a stream seeded by
/// `seed`, so an evaluation is reproducible. `progress` hears how far each phase is:
/// `eval in-batch` (batches), then `eval all candidates` (edges ranked).
///
///     let ev = try TwHINEvaluator(loss: loss, batchSize: 500)
///     let m = try ev.evaluate(model, edges: heldOut, known: KnownEdges([train, heldOut]))
///     m.allCandidates?.mrr
public struct TwHINEvaluator: Sendable {
  public var loss: TwHINLoss
  public var batchSize: Int
  public var hitsAt: [Int]
  /// Rank against all rhs rows (costs one GEMM row per held-out edge).
  public var rankAllCandidates: Bool
  public var seed: UInt64

  public init(loss: TwHINLoss, batchSize: Int, hitsAt: [Int] = [1, 10, 50], rankAllCandidates: Bool = true, seed: UInt64 = 0) throws {
    guard batchSize > 0 else { throw TwHINError("TwHINEvaluator: batch size must be ≥ 1, got \(batchSize)") }
    self.loss = loss
    self.batchSize = batchSize
    self.hitsAt = hitsAt
    self.rankAllCandidates = rankAllCandidates
    self.seed = seed
  }

  public func evaluate(_ model: TwHINModel, edges: EdgeList, known: KnownEdges? = nil,
                       progress: (WorkProgress) -> Void = { _ in }) throws -> TwHINEvaluation {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    let batches = try edges.batches(of: batchSize, schema: model.schema)
    guard !batches.isEmpty else { throw TwHINError("TwHINEvaluator: no held-out edges to evaluate") }
    var rng = RandomGenerator(seed: seed, stream: 0x6576_616C)  // "eval"
    var auc = SampledAUCAccumulator()
    var ranks = try RankingAccumulator(hitsAt: hitsAt)
    var totalLoss = 0.0
    try noGrad {
      for (i, batch) in batches.enumerated() {
        let out = try loss(model, batch, using: &rng)
        totalLoss += Double(out.loss.item ?? .nan)
        let logits = out.logits.scalars
        try auc.append(positiveScores: Array(logits[0..<out.batchSize]), negativeScores: Array(logits[out.batchSize...]))
        try appendInBatchRanks(out, logits, batch, known, &ranks)
        progress(WorkProgress("eval in-batch", done: i + 1, total: batches.count, unit: .batches))
      }
    }
    let all = rankAllCandidates ? try self.rankAgainstAllCandidates(model, edges: edges, known: known, progress: progress) : nil
    return TwHINEvaluation(loss: totalLoss / Double(batches.count), sampledAUC: try auc.compute(),
                           inBatch: try ranks.compute(), allCandidates: all)
  }

  private func appendInBatchRanks(
    _ out: TwHINForward, _ logits: [Float], _ batch: EdgeBatch, _ known: KnownEdges?, _ acc: inout RankingAccumulator
  ) throws {
    for block in out.blocks {
      let k = block.rhsCandidates.count
      guard k > 0 else { continue }
      for (row, p) in block.positions.enumerated() {
        let start = block.rhsNegativeOffset + row * k
        let (u, v) = (batch.lhs[p], batch.rhs[p])
        let skip = block.rhsCandidates.indices.filter { j in
          let c = block.rhsCandidates[j]
          return c == v || (known?.contains(lhs: u, relation: block.relation, rhs: c) ?? false)
        }
        try acc.append(score: logits[p], candidates: Array(logits[start..<(start + k)]), excluding: skip)
      }
    }
  }

  /// Filtered rank of each edge's rhs among all rows of its relation's rhs table
  /// (`progress`: `eval all candidates`, edges ranked).
  public func rankAgainstAllCandidates(_ model: TwHINModel, edges: EdgeList, known: KnownEdges? = nil,
                                       progress: (WorkProgress) -> Void = { _ in }) throws -> RankingSummary {
    var acc = try RankingAccumulator(hitsAt: hitsAt)
    let batches = try edges.batches(of: max(edges.count, 1), schema: model.schema)
    guard let all = batches.first else { throw TwHINError("TwHINEvaluator: no held-out edges to rank") }
    var ranked = 0
    for r in all.presentRelations {
      let positions = all.positionsByRelation[r]
      var ranks = [Double](repeating: 0, count: positions.count)
      try model.forEachScoreRow(lhs: positions.map { all.lhs[$0] }, relation: r) { i, scores in
        let (u, v) = (all.lhs[positions[i]], all.rhs[positions[i]])
        let others = known?.rhs(lhs: u, relation: r) ?? []
        ranks[i] = try Rank.realistic(score: scores[v], candidates: Array(scores), excluding: [v] + others.filter { $0 != v })
        ranked += 1
        progress(WorkProgress("eval all candidates", done: ranked, total: all.count, unit: .edges))
      }
      for rank in ranks { try acc.append(rank: rank) }
    }
    return try acc.compute()
  }
}
