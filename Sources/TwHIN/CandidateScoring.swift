import TMLTensor

/// Which end of a relation's edges is ranked: `tail` ranks rhs rows for (u, r, ?),
/// `head` ranks lhs rows for (?, r, v).
public enum EdgeSide: String, Equatable, Sendable, CaseIterable {
  case head, tail
}

extension TwHINModel {
  /// Scores of lhs rows `lhs` against **every** row of relation r's rhs table (tail
  /// prediction), by one GEMM per block of lhs:
  ///
  ///     S = Q · E_rhsᵀ + b 𝟙ᵀ,   Q_i = adjoint_r(e_{u_i}),  b_i = ⟨e_{u_i}, t_r⟩ (translation) or 0
  ///     →  S[i, v] = ⟨e_{u_i}, op_r(e_v)⟩
  ///
  /// `body(i, row)` receives row i's N scores (valid only during the call). Blocks hold at
  /// most `blockBytes` of scores, so memory stays bounded for any table size. No
  /// gradient is recorded.
  ///
  ///     try model.forEachScoreRow(lhs: [3, 9], relation: 0) { i, scores in ... }
  public func forEachScoreRow(
    lhs: [Int], relation: Int, blockBytes: Int = 32 << 20,
    _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void
  ) throws {
    try forEachScoreRow(queries: lhs, relation: relation, ranking: .tail, blockBytes: blockBytes, body)
  }

  /// Scores of each query against every candidate row of the ranked side:
  /// `.tail` — queries are lhs rows u, row i holds ⟨e_{u_i}, op_r(e_v)⟩ for every rhs row v;
  /// `.head` — queries are rhs rows v, row i holds ⟨e_u, op_r(e_{v_i})⟩ for every lhs row u
  /// (Q_i = op_r(e_{v_i}), S = Q · E_lhsᵀ). Same blocking and callback as above.
  public func forEachScoreRow(
    queries: [Int], relation: Int, ranking side: EdgeSide, blockBytes: Int = 32 << 20,
    _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void
  ) throws {
    try schema.checkRelation(relation, context: "TwHIN candidate scoring")
    let a = schema.lhsTable[relation], b = schema.rhsTable[relation]
    let (queryTable, candidateTable) = side == .tail ? (a, b) : (b, a)
    let name = schema.relations[relation].name
    for (i, u) in queries.enumerated() {
      try schema.checkID(u, table: queryTable, context: "TwHIN candidate scoring (relation \"\(name)\", \(side == .tail ? "lhs" : "rhs") at position \(i))")
    }
    let op = schema.relations[relation].operator
    let n = schema.tables[candidateTable].numEmbeddings, d = dim
    let block = max(1, min(queries.count, blockBytes / max(1, n * 4)))
    var q = [Float](repeating: 0, count: block * d)
    var scores = [Float](repeating: 0, count: block * n)
    var bias = [Float](repeating: 0, count: block)
    let u = tables[queryTable].weight.value, v = tables[candidateTable].weight.value
    let t = Array(translations.value.scalars[(relation * d)..<((relation + 1) * d)])
    var start = 0
    while start < queries.count {
      let m = min(block, queries.count - start)
      // Q_i = adjoint(e_u) (tail) or op(e_v) (head); bias_i = ⟨e_u, t⟩ for a translation tail query.
      u.withUnsafeBufferPointer { up in
        t.withUnsafeBufferPointer { tp in
          q.withUnsafeMutableBufferPointer { qp in
            for i in 0..<m {
              let row = up.baseAddress! + queries[start + i] * d, dst = qp.baseAddress! + i * d
              if side == .tail {
                op.adjoint(tp.baseAddress!, row, dst, d)
                var c: Float = 0
                if op == .translation { for j in 0..<d { c += row[j] * tp[j] } }
                bias[i] = c
              } else {
                op.apply(tp.baseAddress!, row, dst, d)
                bias[i] = 0
              }
            }
          }
        }
      }
      // S = Q · E_candidatesᵀ
      q.withUnsafeBufferPointer { qp in
        v.withUnsafeBufferPointer { vp in
          scores.withUnsafeMutableBufferPointer { sp in
            BLAS.gemm(transA: false, transB: true, m: m, n: n, k: d, a: qp.baseAddress!, lda: d,
                      b: vp.baseAddress!, ldb: d, beta: 0, c: sp.baseAddress!, ldc: n)
            for i in 0..<m where bias[i] != 0 {
              let c = bias[i], row = sp.baseAddress! + i * n
              for k in 0..<n { row[k] += c }
            }
          }
        }
      }
      try scores.withUnsafeBufferPointer { sp in
        for i in 0..<m { try body(start + i, UnsafeBufferPointer(rebasing: sp[(i * n)..<((i + 1) * n)])) }
      }
      start += m
    }
  }

  /// The maximum-inner-product query of a tail prediction (u, r, ?):
  ///
  ///     s(u, r, v) = ⟨e_u, op_r(e_v)⟩ = ⟨q, e_v⟩ + bias,  q = adjoint_r(e_u),  bias = ⟨e_u, t_r⟩ (translation) or 0
  ///
  /// so any inner-product index over the rhs table ranks (u, r, ·) exactly as the full scan.
  public func tailQuery(lhs u: Int, relation: Int) throws -> (vector: [Float], bias: Float) {
    try schema.checkRelation(relation, context: "TwHIN tail query")
    try schema.checkID(u, table: schema.lhsTable[relation], context: "TwHIN tail query (relation \"\(schema.relations[relation].name)\")")
    let d = dim, op = schema.relations[relation].operator
    let e = tables[schema.lhsTable[relation]].weight.value, t = translations.value
    var q = [Float](repeating: 0, count: d)
    var bias: Float = 0
    e.withUnsafeBufferPointer { ep in
      t.withUnsafeBufferPointer { tp in
        q.withUnsafeMutableBufferPointer { qp in
          let row = ep.baseAddress! + u * d, tr = tp.baseAddress! + relation * d
          op.adjoint(tr, row, qp.baseAddress!, d)
          if op == .translation { for j in 0..<d { bias += row[j] * tr[j] } }
        }
      }
    }
    return (q, bias)
  }
}
