import Foundation
import TMLNN
import TMLTensor

/// One training step of the TwHIN objective as explicit kernels, without the autograd tape
/// (the same math as `TwHINLoss` + `backward()`, which the tests compare it with).
///
/// For each relation r present with R edges — lhs rows L_i, rhs rows V_i, translation t,
/// lhs-table candidates C_l[k] (k < K_l) and rhs-table candidates C_r[k] (k < K_r) — the
/// logits and their BCE gradients (y = 1, w = 1 for positives; y = 0, w = B/N for
/// negatives; mean over the B + N logits) are
///
///     z⁺_i     = ⟨L_i, V_i + t⟩                 dz = w·(σ(z) − y)/(B + N)
///     z_l[i,k] = ⟨V_i + t, C_l[k]⟩               ℓ  = (1/(B + N)) Σ w·[(1 − y)·z + softplus(−z)]
///     z_r[i,k] = ⟨L_i, C_r[k] + t⟩
///
/// and, since dz of a logit depends only on that logit, forward, loss and backward run as
/// one pass over the edges of a block, row i at a time (its K_l + K_r candidates stay in cache):
///
///     ∂L_i += dz⁺_i·(V_i + t) + Σ_k dz_r[i,k]·(C_r[k] + t)      ∂C_l[k] += dz_l[i,k]·(V_i + t)
///     ∂V_i += dz⁺_i·L_i       + Σ_k dz_l[i,k]·C_l[k]            ∂C_r[k] += dz_r[i,k]·L_i
///     ∂t   += dz⁺_i·L_i + Σ_k dz_l[i,k]·C_l[k] + Σ_k dz_r[i,k]·L_i
///
/// Rows are gathered once per table and step (each distinct id once); blocks run in
/// parallel when they are large; their row gradients are then added per distinct row and
/// each table's `SparseRowOptimizer` is applied to its rows (the dense gradient of a table
/// is never built). Nothing is updated when a logit is not finite. Buffers are reused
/// across steps.
///
/// With another relation operator, V_i + t and C_r[k] + t read op(V_i) and op(C_r[k]): the
/// pass accumulates ∂ℓ/∂op(·), which each block then maps to ∂t and to the rows
/// (`RelationOperator.adjoint` and `accumulateParameterGradient`).
final class TwHINFusedStep {
  let dim: Int
  private var maps: [SlotMap]
  private var ids: [[Int]]
  private var rows: [[Float]]
  private var scratch: [Float] = []

  init(tables: Int, dim: Int) {
    self.dim = dim
    maps = Array(repeating: SlotMap(), count: tables)
    ids = Array(repeating: [], count: tables)
    rows = Array(repeating: [], count: tables)
  }

  /// One relation's edges and candidates as slots into its tables' gathered rows, and
  /// where its gradients live in the scratch buffer.
  struct Block {
    var relation: Int
    var positions: [Int]
    var lhs: [Int32], rhs: [Int32]
    var lhsCandidates: [Int32], rhsCandidates: [Int32]
    var scratch = 0   // offset of [gL R·D | gV R·D | gCl K_l·D | gCr K_r·D | C_r + t K_r·D | gt D | 2 × (v + t) D | 2 × side D]
    var scratchSize: Int { (2 * lhs.count + lhsCandidates.count + 2 * rhsCandidates.count + 5) }
  }

  struct Result {
    var loss: Float
    var negatives: Int
  }

  /// Scores `batch` against `negatives`, applies each table's optimizer to its touched
  /// rows, and writes ∂ℓ/∂t into `translationGrad` ([num_relations, D], overwritten).
  /// Throws before any update when a logit is not finite.
  func run(_ model: TwHINModel, _ batch: EdgeBatch, _ negatives: [RelationNegatives?], optimizers: [any SparseRowOptimizer],
           translationGrad: inout [Float]) throws -> Result {
    try run(model, batch, negatives, store: LocalRowStore(model: model, optimizers: optimizers), translationGrad: &translationGrad)
  }

  /// The step with rows read from and gradients sent to `store`, over the batch positions
  /// `owns` accepts (all by default). Every edge's candidates are still the whole batch's
  /// (in-batch negatives index all of a relation's edges), and the loss weights use the
  /// whole batch's counts, so the steps of processes that split the positions between them
  /// add up to the step over the whole batch: the returned loss, ∂t and row gradients are
  /// this process's share of the sums. `model` gives the schema's relation → table maps,
  /// the operators and the translations; its tables are only read through `store`.
  func run(_ model: TwHINModel, _ batch: EdgeBatch, _ negatives: [RelationNegatives?], store: any TwHINRowStore,
           owns: ((Int) -> Bool)? = nil, translationGrad: inout [Float]) throws -> Result {
    let schema = model.schema, d = dim, tableCount = schema.tables.count
    // At most 2B edge endpoints and the global candidates are distinct in any one table.
    let bound = 2 * batch.count + negatives.reduce(0) { $0 + ($1.map { $0.lhsGlobal.count + $0.rhsGlobal.count } ?? 0) }
    for t in 0..<tableCount {
      ids[t].removeAll(keepingCapacity: true)
      maps[t].reset(expected: bound)
    }
    func slot(_ t: Int, _ id: Int) -> Int32 {
      let (s, inserted) = maps[t].slot(for: id, next: Int32(ids[t].count))
      if inserted { ids[t].append(id) }
      return s
    }
    var blocks: [Block] = []
    var scratchFloats = 0
    var negativeCount = 0  // over the whole batch: the loss weights must not depend on `owns`
    for r in batch.presentRelations {
      let a = schema.lhsTable[r], b = schema.rhsTable[r]
      let all = batch.positionsByRelation[r], n = negatives[r]!
      negativeCount += all.count * (n.lhsCount + n.rhsCount)
      let pos = owns.map { f in all.filter(f) } ?? all
      guard !pos.isEmpty else { continue }
      let lhs = pos.map { slot(a, batch.lhs[$0]) }, rhs = pos.map { slot(b, batch.rhs[$0]) }
      var blk = Block(relation: r, positions: pos, lhs: lhs, rhs: rhs,
                      lhsCandidates: n.lhsInBatch.map { slot(a, batch.lhs[all[$0]]) } + n.lhsGlobal.map { slot(a, $0) },
                      rhsCandidates: n.rhsInBatch.map { slot(b, batch.rhs[all[$0]]) } + n.rhsGlobal.map { slot(b, $0) })
      blk.scratch = scratchFloats
      scratchFloats += blk.scratchSize * d
      blocks.append(blk)
    }
    for t in 0..<tableCount {
      let n = ids[t].count * d
      if rows[t].count < n { rows[t] = [Float](repeating: 0, count: n) }
      try rows[t].withUnsafeMutableBufferPointer { try store.gather(table: t, ids: ids[t], into: $0.baseAddress!) }
    }
    if scratch.count < scratchFloats { scratch = [Float](repeating: 0, count: scratchFloats) }
    let bsz = batch.count
    let weights = BlockKernel.Weights(scale: 1 / Float(bsz + negativeCount),
                                      negative: negativeCount > 0 ? Float(bsz) / Float(negativeCount) : 0)
    let translations = model.translations.value

    // Forward + loss + backward of every block (in parallel when there is enough work).
    var losses = [Double](repeating: 0, count: blocks.count)
    var finite = [Bool](repeating: true, count: blocks.count)
    let work = blocks.reduce(0) { $0 + $1.positions.count * ($1.lhsCandidates.count + $1.rhsCandidates.count + 1) } * d
    let lhsTables = blocks.map { schema.lhsTable[$0.relation] }, rhsTables = blocks.map { schema.rhsTable[$0.relation] }
    withRowPointers { rowPointers in
      scratch.withUnsafeMutableBufferPointer { sp in
        translations.withUnsafeBufferPointer { tp in
          losses.withUnsafeMutableBufferPointer { lp in
            finite.withUnsafeMutableBufferPointer { fp in
              let (sBase, tBase, lBase, fBase) = (sp.baseAddress!, tp.baseAddress!, lp.baseAddress!, fp.baseAddress!)
              let each = { (k: Int) in
                let blk = blocks[k]
                let kernel = BlockKernel(d: d, op: schema.relations[blk.relation].operator,
                                         a: rowPointers[lhsTables[k]], b: rowPointers[rhsTables[k]],
                                         t: tBase + blk.relation * d, out: sBase + blk.scratch)
                (lBase[k], fBase[k]) = kernel.run(blk, weights)
              }
              if work >= 400_000 && blocks.count > 1 {
                parallelFor(blocks.count, minimumPerThread: 1) { range in for k in range { each(k) } }
              } else {
                for k in blocks.indices { each(k) }
              }
            }
          }
        }
      }
    }
    let failure = finite.firstIndex(of: false).map {
      "TwHIN step: a logit is non-finite (relation \"\(schema.relations[blocks[$0].relation].name)\"); the loss would be NaN. Lower the learning rates or check the inputs"
    }
    try store.agree(failure: failure)

    // Row gradients per distinct row, ∂t, and the fused table updates.
    if translationGrad.count != translations.count { translationGrad = [Float](repeating: 0, count: translations.count) }
    translationGrad.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    var gradients = (0..<tableCount).map { Tensor.zeros([ids[$0].count, d]) }
    scratch.withUnsafeBufferPointer { sp in
      for blk in blocks {
        let a = schema.lhsTable[blk.relation], b = schema.rhsTable[blk.relation]
        let (r, kl, kr) = (blk.lhs.count, blk.lhsCandidates.count, blk.rhsCandidates.count)
        let gL = sp.baseAddress! + blk.scratch, gV = gL + r * d, gCl = gV + r * d, gCr = gCl + kl * d, gt = gCr + 2 * kr * d
        gradients[a].withUnsafeMutableBufferPointer { ga in
          addRows(gL, blk.lhs, into: ga.baseAddress!, d)
          addRows(gCl, blk.lhsCandidates, into: ga.baseAddress!, d)
        }
        gradients[b].withUnsafeMutableBufferPointer { gb in
          addRows(gV, blk.rhs, into: gb.baseAddress!, d)
          addRows(gCr, blk.rhsCandidates, into: gb.baseAddress!, d)
        }
        translationGrad.withUnsafeMutableBufferPointer { g in
          for j in 0..<d { g[blk.relation * d + j] += gt[j] }
        }
      }
    }
    for t in 0..<tableCount {
      // Rows in first-seen order (distinct; the optimizers do not depend on the order).
      try store.apply(table: t, SparseRowGradient(rows: ids[t], values: gradients[t]))
    }
    return Result(loss: Float(losses.reduce(0, +) * Double(weights.scale)), negatives: negativeCount)
  }

  /// SGD and row-wise Adagrad updates of many rows split across the cores (the rows are
  /// distinct, so the chunks never touch the same memory), with exactly the arithmetic of
  /// `SparseSGD` / `RowWiseAdagrad.apply`; false for other optimizers.
  static func applyInParallel(_ optimizer: any SparseRowOptimizer, to table: Parameter, _ g: SparseRowGradient) throws -> Bool {
    let (n, d) = (table.shape[0], table.shape[1])
    guard g.values.shape == [g.rows.count, d], !g.rows.contains(where: { $0 < 0 || $0 >= n }) else { return false }
    if let sgd = optimizer as? SparseSGD {
      let lr = sgd.schedule.rate(at: sgd.iteration)
      g.values.withUnsafeBufferPointer { v in
        table.updateInPlace { w in
          let (vp, wp) = (v.baseAddress!, w.baseAddress!)
          g.rows.withUnsafeBufferPointer { rows in
            parallelFor(rows.count, minimumPerThread: 64) { range in
              for k in range { let r = rows[k]; for j in 0..<d { wp[r * d + j] -= lr * vp[k * d + j] } }
            }
          }
        }
      }
      sgd.iteration += 1
      return true
    }
    if let rw = optimizer as? RowWiseAdagrad {
      let lr = rw.schedule.rate(at: rw.iteration), eps = rw.eps
      var acc = rw.state.removeValue(forKey: "momentum1") ?? TwHINFusedStep.accumulator(rows: n)
      let count = g.rows.count
      g.values.withUnsafeBufferPointer { v in
        acc.withUnsafeMutableBufferPointer { a in
          table.updateInPlace { w in
            let (vp, ap, wp) = (v.baseAddress!, a.baseAddress!, w.baseAddress!)
            g.rows.withUnsafeBufferPointer { rows in
              parallelFor(count, minimumPerThread: 64) { range in
                for k in range {
                  let r = rows[k], src = vp + k * d, dst = wp + r * d
                  var sq: Float = 0
                  for j in 0..<d { sq += src[j] * src[j] }
                  ap[r] += sq / Float(d)
                  let scale = lr / (ap[r].squareRoot() + eps)
                  for j in 0..<d { dst[j] -= scale * src[j] }
                }
              }
            }
          }
        }
      }
      rw.state["momentum1"] = acc
      rw.iteration += 1
      return true
    }
    return false
  }

  /// A zeroed row-wise Adagrad accumulator, on huge pages when large (one float per row,
  /// hit at random).
  static func accumulator(rows n: Int) -> Tensor {
    let t = Tensor(uninitializedShape: [n])
    t.withUnsafeBufferPointer { p in
      guard let base = UnsafeMutablePointer(mutating: p.baseAddress) else { return }
      EmbeddingTable.adviseHugePages(base, bytes: n * 4)
      base.update(repeating: 0, count: n)
    }
    return t
  }

  private func withRowPointers<R>(_ body: ([UnsafePointer<Float>]) -> R) -> R {
    func nest(_ t: Int, _ acc: [UnsafePointer<Float>]) -> R {
      guard t < rows.count else { return body(acc) }
      return rows[t].withUnsafeBufferPointer { nest(t + 1, acc + [$0.baseAddress!]) }
    }
    return nest(0, [])
  }
}

/// dst[slots[i]] += src[i] for each row i.
private func addRows(_ src: UnsafePointer<Float>, _ slots: [Int32], into dst: UnsafeMutablePointer<Float>, _ d: Int) {
  for (i, s) in slots.enumerated() {
    let from = src + i * d, to = dst + Int(s) * d
    for j in 0..<d { to[j] += from[j] }
  }
}

/// The fused forward, loss and backward of one relation block over raw pointers: `a` and
/// `b` are the gathered rows of the lhs and rhs tables, `t` the translation, `out` the
/// block's scratch (see `TwHINFusedStep.Block.scratch`).
struct BlockKernel {
  struct Weights {
    var scale: Float     // 1/(B + N)
    var negative: Float  // B/N
  }

  let d: Int
  let op: RelationOperator
  let a: UnsafePointer<Float>, b: UnsafePointer<Float>, t: UnsafePointer<Float>
  let out: UnsafeMutablePointer<Float>

  /// Returns the block's Σ w·ℓ (unscaled) and whether every logit was finite. Edges go
  /// two at a time (each candidate row loaded once serves both): all K_l + K_r candidate
  /// logits (four dot products per pass), their losses and gradients in one vectorised
  /// loop, then the gradient updates (four candidates per pass).
  func run(_ blk: TwHINFusedStep.Block, _ w: Weights) -> (Double, Bool) {
    let d = self.d
    let (r, kl, kr) = (blk.lhs.count, blk.lhsCandidates.count, blk.rhsCandidates.count)
    let gL = out, gV = gL + r * d, gCl = gV + r * d, gCr = gCl + kl * d, crt = gCr + kr * d, gt = crt + kr * d
    let vt = (gt + d, gt + 2 * d), side = (gt + 3 * d, gt + 4 * d)
    out.update(repeating: 0, count: (2 * r + kl + kr) * d)
    gt.update(repeating: 0, count: d)
    for k in 0..<kr {  // op(C_r)
      op.apply(t, b + Int(blk.rhsCandidates[k]) * d, crt + k * d, d)
    }
    let sw = w.scale * w.negative, k = kl + kr
    var loss: Double = 0
    var finite = true
    withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: max(k, 1)) { rowsBuffer in
      withUnsafeTemporaryAllocation(of: Float.self, capacity: max(4 * k, 1)) { zBuffer in
        let rows = rowsBuffer.baseAddress!
        let z = (zBuffer.baseAddress!, zBuffer.baseAddress! + k), losses = zBuffer.baseAddress! + 2 * k
        for c in 0..<kl { rows[c] = a + Int(blk.lhsCandidates[c]) * d }
        for c in 0..<kr { rows[kl + c] = UnsafePointer(crt + c * d) }
        var i = 0
        while i < r {
          let pair = i + 1 < r
          let l0 = a + Int(blk.lhs[i]) * d, l1 = pair ? a + Int(blk.lhs[i + 1]) * d : l0
          op.apply(t, b + Int(blk.rhs[i]) * d, vt.0, d)
          if pair { op.apply(t, b + Int(blk.rhs[i + 1]) * d, vt.1, d) }
          // Positives: ℓ = softplus(−z), dz = scale·(σ(z) − 1).
          var acc: Float = 0
          for e in 0..<(pair ? 2 : 1) {
            let (l, v) = e == 0 ? (l0, vt.0) : (l1, vt.1)
            let (sp, sig) = softplusNegAndSigmoid(dot(l, v, d))
            acc += sp
            let dp = w.scale * (sig - 1)
            axpy(dp, v, gL + (i + e) * d, d)
            axpy(dp, l, gV + (i + e) * d, d)
          }
          // Negatives: z = ⟨V_i + t, C_l[k]⟩ and ⟨L_i, C_r[k] + t⟩; ℓ = w·softplus(z), dz = scale·w·σ(z).
          if pair {
            multiDot2(vt.0, vt.1, rows, kl, d, z.0, z.1)
            multiDot2(l0, l1, rows + kl, kr, d, z.0 + kl, z.1 + kl)
          } else {
            multiDot(vt.0, rows, kl, d, z.0)
            multiDot(l0, rows + kl, kr, d, z.0 + kl)
          }
          let n = (pair ? 2 : 1) * k  // z.1 follows z.0
          for c in 0..<n {  // no reduction here, so the loop vectorises
            let (sp, sig) = softplusNegAndSigmoid(z.0[c])
            losses[c] = z.0[c] + sp
            z.0[c] = sw * sig
          }
          var negAcc: Float = 0
          for c in 0..<n { negAcc += losses[c] }
          // ∂V and ∂t get Σ dz·C_l (once, via `side`); ∂C_l += dz·(V + t); ∂L += Σ dz·(C_r + t); ∂C_r += dz·L.
          side.0.update(repeating: 0, count: d)
          if pair {
            side.1.update(repeating: 0, count: d)
            combine2(rows, z.0, z.1, kl, d, side.0, side.1)
            outer2(vt.0, vt.1, z.0, z.1, kl, d, gCl)
            combine2(rows + kl, z.0 + kl, z.1 + kl, kr, d, gL + i * d, gL + (i + 1) * d)
            outer2(l0, l1, z.0 + kl, z.1 + kl, kr, d, gCr)
            axpy(1, side.1, gV + (i + 1) * d, d)
          } else {
            combine(rows, z.0, kl, d, side.0)
            outer(vt.0, z.0, kl, d, gCl)
            combine(rows + kl, z.0 + kl, kr, d, gL + i * d)
            outer(l0, z.0 + kl, kr, d, gCr)
          }
          axpy(1, side.0, gV + i * d, d)
          acc += w.negative * negAcc
          if !acc.isFinite { finite = false }
          loss += Double(acc)
          i += pair ? 2 : 1
        }
      }
    }
    // gV and gCr hold ∂ℓ/∂op(V) and ∂ℓ/∂op(C_r): chain them to t and to the rows.
    for i in 0..<r {
      op.accumulateParameterGradient(b + Int(blk.rhs[i]) * d, gV + i * d, gt, d)
      op.adjoint(t, gV + i * d, gV + i * d, d)
    }
    for c in 0..<kr {
      op.accumulateParameterGradient(b + Int(blk.rhsCandidates[c]) * d, gCr + c * d, gt, d)
      op.adjoint(t, gCr + c * d, gCr + c * d, d)
    }
    return (loss, finite)
  }
}

// MARK: Row kernels (four lanes over the embedding dimension, scalar tail)

/// Four floats as plain fields: the lanes of the row kernels in debug builds, where the
/// generic `SIMD4` is an order of magnitude slower.
struct F4 {
  var x0: Float, x1: Float, x2: Float, x3: Float
  @inline(__always) init() { (x0, x1, x2, x3) = (0, 0, 0, 0) }
  @inline(__always) init(_ p: UnsafePointer<Float>) { (x0, x1, x2, x3) = (p[0], p[1], p[2], p[3]) }
  @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) { (p[0], p[1], p[2], p[3]) = (x0, x1, x2, x3) }
  @inline(__always) func sum() -> Float { (x0 + x1) + (x2 + x3) }
  @inline(__always) static func + (a: F4, b: F4) -> F4 { var r = a; r.x0 += b.x0; r.x1 += b.x1; r.x2 += b.x2; r.x3 += b.x3; return r }
  @inline(__always) static func * (a: F4, b: F4) -> F4 { var r = a; r.x0 *= b.x0; r.x1 *= b.x1; r.x2 *= b.x2; r.x3 *= b.x3; return r }
  @inline(__always) static func * (s: Float, b: F4) -> F4 { var r = b; r.x0 *= s; r.x1 *= s; r.x2 *= s; r.x3 *= s; return r }
  @inline(__always) static func += (a: inout F4, b: F4) { a = a + b }
}

#if DEBUG
typealias Lanes = F4
@inline(__always) private func load4(_ p: UnsafePointer<Float>) -> F4 { F4(p) }
@inline(__always) private func store4(_ v: F4, _ p: UnsafeMutablePointer<Float>) { v.store(p) }
#else
/// Release builds use `SIMD4<Float>` (about 1.5× faster there than `F4`).
typealias Lanes = SIMD4<Float>
@inline(__always) private func load4(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
@inline(__always) private func store4(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }
#endif

/// y += α·x.
@inline(__always) func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
  var j = 0
  while j + 4 <= n {
    store4(load4(y + j) + alpha * load4(x + j), y + j)
    j += 4
  }
  while j < n {
    y[j] += alpha * x[j]
    j += 1
  }
}

/// Σ_j a[j]·b[j].
@inline(__always) func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
  var s = Lanes()
  var j = 0
  while j + 4 <= n {
    s += load4(a + j) * load4(b + j)
    j += 4
  }
  var tail: Float = 0
  while j < n {
    tail += a[j] * b[j]
    j += 1
  }
  return s.sum() + tail
}

/// out[k] = ⟨x, rows[k]⟩ for k < count, four rows per pass over x.
@inline(__always) func multiDot(_ x: UnsafePointer<Float>, _ rows: UnsafePointer<UnsafePointer<Float>>, _ count: Int, _ n: Int,
                                _ out: UnsafeMutablePointer<Float>) {
  var k = 0
  while k + 4 <= count {
    let (r0, r1, r2, r3) = (rows[k], rows[k + 1], rows[k + 2], rows[k + 3])
    var s0 = Lanes(), s1 = Lanes(), s2 = Lanes(), s3 = Lanes()
    var j = 0
    while j + 4 <= n {
      let xv = load4(x + j)
      s0 += xv * load4(r0 + j)
      s1 += xv * load4(r1 + j)
      s2 += xv * load4(r2 + j)
      s3 += xv * load4(r3 + j)
      j += 4
    }
    var t0: Float = 0, t1: Float = 0, t2: Float = 0, t3: Float = 0
    while j < n {
      t0 += x[j] * r0[j]; t1 += x[j] * r1[j]; t2 += x[j] * r2[j]; t3 += x[j] * r3[j]
      j += 1
    }
    out[k] = s0.sum() + t0; out[k + 1] = s1.sum() + t1; out[k + 2] = s2.sum() + t2; out[k + 3] = s3.sum() + t3
    k += 4
  }
  while k < count {
    out[k] = dot(x, rows[k], n)
    k += 1
  }
}

/// y += Σ_k g[k]·rows[k], four rows per pass over y.
@inline(__always) func combine(_ rows: UnsafePointer<UnsafePointer<Float>>, _ g: UnsafePointer<Float>, _ count: Int, _ n: Int,
                               _ y: UnsafeMutablePointer<Float>) {
  var k = 0
  while k + 4 <= count {
    let (r0, r1, r2, r3) = (rows[k], rows[k + 1], rows[k + 2], rows[k + 3])
    let (g0, g1, g2, g3) = (g[k], g[k + 1], g[k + 2], g[k + 3])
    var j = 0
    while j + 4 <= n {
      store4(load4(y + j) + g0 * load4(r0 + j) + g1 * load4(r1 + j) + g2 * load4(r2 + j) + g3 * load4(r3 + j), y + j)
      j += 4
    }
    while j < n {
      y[j] += g0 * r0[j] + g1 * r1[j] + g2 * r2[j] + g3 * r3[j]
      j += 1
    }
    k += 4
  }
  while k < count {
    axpy(g[k], rows[k], y, n)
    k += 1
  }
}

/// out[k] += g[k]·x for k < count (rows of `out` contiguous, n apart), four per pass over x.
@inline(__always) func outer(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ count: Int, _ n: Int,
                             _ out: UnsafeMutablePointer<Float>) {
  var k = 0
  while k + 4 <= count {
    let (o0, o1, o2, o3) = (out + k * n, out + (k + 1) * n, out + (k + 2) * n, out + (k + 3) * n)
    let (g0, g1, g2, g3) = (g[k], g[k + 1], g[k + 2], g[k + 3])
    var j = 0
    while j + 4 <= n {
      let xv = load4(x + j)
      store4(load4(o0 + j) + g0 * xv, o0 + j)
      store4(load4(o1 + j) + g1 * xv, o1 + j)
      store4(load4(o2 + j) + g2 * xv, o2 + j)
      store4(load4(o3 + j) + g3 * xv, o3 + j)
      j += 4
    }
    while j < n {
      o0[j] += g0 * x[j]; o1[j] += g1 * x[j]; o2[j] += g2 * x[j]; o3[j] += g3 * x[j]
      j += 1
    }
    k += 4
  }
  while k < count {
    axpy(g[k], x, out + k * n, n)
    k += 1
  }
}

/// (softplus(−z), σ(z)) = (log(1 + e^−z), 1/(1 + e^−z)), stable for any z: with
/// e = e^−|z| ∈ (0, 1], softplus(−z) = max(−z, 0) + log1p(e) and σ(z) = 1/(1+e) or e/(1+e).
/// log1p(e) = 2·atanh(s), s = e/(2 + e) ∈ (0, 1/3], by its odd series to s¹⁵ (error < 1e-9),
/// which vectorises where libm's log1pf does not.
@inline(__always) func softplusNegAndSigmoid(_ z: Float) -> (Float, Float) {
  let e = expNonPositive(-abs(z))
  let s = e / (2 + e), s2 = s * s
  var p: Float = 1.0 / 15
  p = p * s2 + 1.0 / 13
  p = p * s2 + 1.0 / 11
  p = p * s2 + 1.0 / 9
  p = p * s2 + 1.0 / 7
  p = p * s2 + 1.0 / 5
  p = p * s2 + 1.0 / 3
  p = p * s2 + 1
  let log1pE = 2 * s * p
  let inv = 1 / (1 + e)
  return (max(-z, 0) + log1pE, z >= 0 ? inv : e * inv)
}

/// eˣ for x ≤ 0 (x below −87 gives e⁻⁸⁷): 2ⁿ·p(r) with n = round(x/ln 2),
/// r = x − n·ln 2 (Cody–Waite) and p the degree-7 Taylor polynomial; relative error below
/// 2e-7, branch-free; NaN in, NaN out.
@inline(__always) func expNonPositive(_ x: Float) -> Float {
  let x = max(min(x, 0), -87)
  // n = round(x/ln 2) by the 1.5·2²³ trick (libm's rintf would stop the loop vectorising);
  // m keeps n in its low mantissa bits for 2ⁿ below.
  let m = x * 1.442_695_04 + 12_582_912
  let n = m - 12_582_912
  let r = (x - n * 0.693_359_375) + n * 2.121_944_4e-4
  var p: Float = 1.0 / 5040
  p = p * r + 1.0 / 720
  p = p * r + 1.0 / 120
  p = p * r + 1.0 / 24
  p = p * r + 1.0 / 6
  p = p * r + 0.5
  p = p * r + 1
  p = p * r + 1
  // 2ⁿ from m's bits: no Float → Int conversion, so a NaN input gives NaN, never a trap.
  let k = m.bitPattern &- 0x4B40_0000
  return p * Float(bitPattern: (k &+ 127) << 23)
}

/// out0[k] = ⟨x0, rows[k]⟩ and out1[k] = ⟨x1, rows[k]⟩: two edges per pass over four rows.
@inline(__always) func multiDot2(_ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ rows: UnsafePointer<UnsafePointer<Float>>,
                                 _ count: Int, _ n: Int, _ out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>) {
  var k = 0
  while k + 4 <= count && n % 4 == 0 {
    let (r0, r1, r2, r3) = (rows[k], rows[k + 1], rows[k + 2], rows[k + 3])
    var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
    var b0 = Lanes(), b1 = Lanes(), b2 = Lanes(), b3 = Lanes()
    var j = 0
    while j < n {
      let u = load4(x0 + j), v = load4(x1 + j)
      let c0 = load4(r0 + j), c1 = load4(r1 + j), c2 = load4(r2 + j), c3 = load4(r3 + j)
      a0 += u * c0; a1 += u * c1; a2 += u * c2; a3 += u * c3
      b0 += v * c0; b1 += v * c1; b2 += v * c2; b3 += v * c3
      j += 4
    }
    out0[k] = a0.sum(); out0[k + 1] = a1.sum(); out0[k + 2] = a2.sum(); out0[k + 3] = a3.sum()
    out1[k] = b0.sum(); out1[k + 1] = b1.sum(); out1[k + 2] = b2.sum(); out1[k + 3] = b3.sum()
    k += 4
  }
  if k < count {
    multiDot(x0, rows + k, count - k, n, out0 + k)
    multiDot(x1, rows + k, count - k, n, out1 + k)
  }
}

/// y0 += Σ_k g0[k]·rows[k] and y1 += Σ_k g1[k]·rows[k], four rows per pass.
@inline(__always) func combine2(_ rows: UnsafePointer<UnsafePointer<Float>>, _ g0: UnsafePointer<Float>, _ g1: UnsafePointer<Float>,
                                _ count: Int, _ n: Int, _ y0: UnsafeMutablePointer<Float>, _ y1: UnsafeMutablePointer<Float>) {
  var k = 0
  while k + 4 <= count && n % 4 == 0 {
    let (r0, r1, r2, r3) = (rows[k], rows[k + 1], rows[k + 2], rows[k + 3])
    let (p0, p1, p2, p3) = (g0[k], g0[k + 1], g0[k + 2], g0[k + 3])
    let (q0, q1, q2, q3) = (g1[k], g1[k + 1], g1[k + 2], g1[k + 3])
    var j = 0
    while j < n {
      let c0 = load4(r0 + j), c1 = load4(r1 + j), c2 = load4(r2 + j), c3 = load4(r3 + j)
      store4(load4(y0 + j) + p0 * c0 + p1 * c1 + p2 * c2 + p3 * c3, y0 + j)
      store4(load4(y1 + j) + q0 * c0 + q1 * c1 + q2 * c2 + q3 * c3, y1 + j)
      j += 4
    }
    k += 4
  }
  if k < count {
    combine(rows + k, g0 + k, count - k, n, y0)
    combine(rows + k, g1 + k, count - k, n, y1)
  }
}

/// out[k] += g0[k]·x0 + g1[k]·x1 (rows of `out` n apart), four rows per pass.
@inline(__always) func outer2(_ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ g0: UnsafePointer<Float>, _ g1: UnsafePointer<Float>,
                              _ count: Int, _ n: Int, _ out: UnsafeMutablePointer<Float>) {
  var k = 0
  while k + 4 <= count && n % 4 == 0 {
    let (o0, o1, o2, o3) = (out + k * n, out + (k + 1) * n, out + (k + 2) * n, out + (k + 3) * n)
    let (p0, p1, p2, p3) = (g0[k], g0[k + 1], g0[k + 2], g0[k + 3])
    let (q0, q1, q2, q3) = (g1[k], g1[k + 1], g1[k + 2], g1[k + 3])
    var j = 0
    while j < n {
      let u = load4(x0 + j), v = load4(x1 + j)
      store4(load4(o0 + j) + p0 * u + q0 * v, o0 + j)
      store4(load4(o1 + j) + p1 * u + q1 * v, o1 + j)
      store4(load4(o2 + j) + p2 * u + q2 * v, o2 + j)
      store4(load4(o3 + j) + p3 * u + q3 * v, o3 + j)
      j += 4
    }
    k += 4
  }
  if k < count {
    outer(x0, g0 + k, count - k, n, out + k * n)
    outer(x1, g1 + k, count - k, n, out + k * n)
  }
}

/// An open-addressing map from row ids to consecutive slots, cleared in O(entries).
struct SlotMap {
  private var keys: [Int] = []
  private var values: [Int32] = []
  private var used: [Int] = []
  private var mask = 0

  mutating func reset(expected: Int) {
    var capacity = 64
    while capacity < 2 * expected { capacity <<= 1 }
    if keys.count < capacity {
      keys = [Int](repeating: -1, count: capacity)
      values = [Int32](repeating: 0, count: capacity)
      used.removeAll()
    } else {
      for u in used { keys[u] = -1 }
      used.removeAll(keepingCapacity: true)
    }
    mask = keys.count - 1
  }

  /// The slot of `id`, inserting it with slot `next` when absent.
  mutating func slot(for id: Int, next: Int32) -> (Int32, inserted: Bool) {
    var h = (id &* -7_046_029_254_386_353_131) >> 20 & mask  // Fibonacci hashing
    while true {
      let k = keys[h]
      if k == id { return (values[h], false) }
      if k == -1 {
        keys[h] = id
        values[h] = next
        used.append(h)
        return (next, true)
      }
      h = (h + 1) & mask
    }
  }
}
