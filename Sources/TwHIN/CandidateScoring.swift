import TMLTensor

extension TwHINModel {
  /// Scores of lhs rows `lhs` against **every** row of relation r's rhs table, by one GEMM
  /// per block of lhs:
  ///
  ///     S = Q · E_rhsᵀ + (Q · t_r) 𝟙ᵀ,   Q = E_lhs[lhs]   →   S[i, v] = ⟨e_{u_i}, e_v + t_r⟩
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
    try schema.checkRelation(relation, context: "TwHIN candidate scoring")
    let a = schema.lhsTable[relation], b = schema.rhsTable[relation]
    let name = schema.relations[relation].name
    for (i, u) in lhs.enumerated() {
      try schema.checkID(u, table: a, context: "TwHIN candidate scoring (relation \"\(name)\", lhs at position \(i))")
    }
    let n = schema.tables[b].numEmbeddings, d = dim
    let block = max(1, min(lhs.count, blockBytes / max(1, n * 4)))
    var q = [Float](repeating: 0, count: block * d)
    var scores = [Float](repeating: 0, count: block * n)
    var bias = [Float](repeating: 0, count: block)
    let u = tables[a].weight.value, v = tables[b].weight.value
    let t = Array(translations.value.scalars[(relation * d)..<((relation + 1) * d)])
    var start = 0
    while start < lhs.count {
      let m = min(block, lhs.count - start)
      // Q = E_lhs[lhs[start..<start+m]],  bias_i = ⟨q_i, t_r⟩
      u.withUnsafeBufferPointer { up in
        for i in 0..<m {
          let row = lhs[start + i] * d
          var c: Float = 0
          for j in 0..<d { q[i * d + j] = up[row + j]; c += up[row + j] * t[j] }
          bias[i] = c
        }
      }
      // S = Q · E_rhsᵀ
      q.withUnsafeBufferPointer { qp in
        v.withUnsafeBufferPointer { vp in
          scores.withUnsafeMutableBufferPointer { sp in
            BLAS.gemm(transA: false, transB: true, m: m, n: n, k: d, a: qp.baseAddress!, lda: d,
                      b: vp.baseAddress!, ldb: d, beta: 0, c: sp.baseAddress!, ldc: n)
            for i in 0..<m {
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
}
