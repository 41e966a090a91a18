import TMLTensor

extension TwHINModel {
  /// The k rhs nodes with the highest exact score for (lhs, relation):
  ///
  ///     top-k over v of  s(u, r, v) = ⟨e_u, e_v + t_r⟩
  ///
  /// computed by GEMM against the whole rhs table and a size-k heap (`TopK`), best first
  /// (ties: lower id first). With `excluding`, rhs already known for (u, r) are skipped
  /// (recommend only new items). Note the translation adds the same ⟨e_u, t_r⟩ to every
  /// candidate, so it shifts the scores but not the order.
  ///
  ///     let top = try model.neighbors(lhs: 42, relation: "fav", k: 10, excluding: known)
  public func neighbors(lhs: Int, relation: Int, k: Int, excluding known: KnownEdges? = nil) throws -> [Neighbor] {
    try neighbors(lhs: [lhs], relation: relation, k: k, excluding: known)[0]
  }

  public func neighbors(lhs: Int, relation: String, k: Int, excluding known: KnownEdges? = nil) throws -> [Neighbor] {
    try neighbors(lhs: [lhs], relation: schema.relationIndex(named: relation), k: k, excluding: known)[0]
  }

  /// `neighbors` for many lhs at once (one GEMM per block of lhs rows).
  public func neighbors(lhs: [Int], relation: Int, k: Int, excluding known: KnownEdges? = nil) throws -> [[Neighbor]] {
    guard k >= 0 else { throw TwHINError("neighbors: k must be ≥ 0, got \(k)") }
    var out = [[Neighbor]](repeating: [], count: lhs.count)
    try forEachScoreRow(lhs: lhs, relation: relation) { i, scores in
      let skip = known?.rhs(lhs: lhs[i], relation: relation) ?? []
      var top = TopK(k: k)
      for v in 0..<scores.count where skip.isEmpty || !skip.contains(v) { top.offer(id: v, score: scores[v]) }
      out[i] = top.sorted()
    }
    return out
  }
}
