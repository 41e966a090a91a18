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
    var scratch = 0   // offset of [gL R·D | gV R·D | gCl K_l·D | gCr K_r·D | C_r + t K_r·D | gt D | v + t D | side D]
    var scratchSize: Int { (2 * lhs.count + lhsCandidates.count + 2 * rhsCandidates.count + 3) }
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
    let schema = model.schema, d = dim, tableCount = schema.tables.count
    for t in 0..<tableCount {
      ids[t].removeAll(keepingCapacity: true)
      maps[t].reset(expected: 4 * batch.count + 64)
    }
    func slot(_ t: Int, _ id: Int) -> Int32 {
      let (s, inserted) = maps[t].slot(for: id, next: Int32(ids[t].count))
      if inserted { ids[t].append(id) }
      return s
    }
    var blocks: [Block] = []
    var scratchFloats = 0
    for r in batch.presentRelations {
      let a = schema.lhsTable[r], b = schema.rhsTable[r]
      let pos = batch.positionsByRelation[r], n = negatives[r]!
      let lhs = pos.map { slot(a, batch.lhs[$0]) }, rhs = pos.map { slot(b, batch.rhs[$0]) }
      var blk = Block(relation: r, positions: pos, lhs: lhs, rhs: rhs,
                      lhsCandidates: n.lhsInBatch.map { lhs[$0] } + n.lhsGlobal.map { slot(a, $0) },
                      rhsCandidates: n.rhsInBatch.map { rhs[$0] } + n.rhsGlobal.map { slot(b, $0) })
      blk.scratch = scratchFloats
      scratchFloats += blk.scratchSize * d
      blocks.append(blk)
    }
    for t in 0..<tableCount {
      let n = ids[t].count * d
      if rows[t].count < n { rows[t] = [Float](repeating: 0, count: n) }
      model.tables[t].weight.value.withUnsafeBufferPointer { w in
        rows[t].withUnsafeMutableBufferPointer { e in
          ids[t].withUnsafeBufferPointer { idp in
            let (src, dst, list) = (w.baseAddress!, e.baseAddress!, idp.baseAddress!)
            // Random rows of a large table miss the caches and the TLB: fetch them on all cores.
            parallelFor(idp.count, minimumPerThread: max(64, 16_384 / d)) { range in
              for k in range { (dst + k * d).update(from: src + list[k] * d, count: d) }
            }
          }
        }
      }
    }
    if scratch.count < scratchFloats { scratch = [Float](repeating: 0, count: scratchFloats) }
    let bsz = batch.count
    let negativeCount = blocks.reduce(0) { $0 + $1.positions.count * ($1.lhsCandidates.count + $1.rhsCandidates.count) }
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
                let kernel = BlockKernel(d: d, a: rowPointers[lhsTables[k]], b: rowPointers[rhsTables[k]],
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
    guard finite.allSatisfy({ $0 }) else {
      throw TwHINError("TwHIN step: a logit is non-finite (relation \"\(schema.relations[blocks[finite.firstIndex(of: false)!].relation].name)\"); the loss would be NaN. Lower the learning rates or check the inputs")
    }

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
    for t in 0..<tableCount where !ids[t].isEmpty {
      // Rows in first-seen order (distinct; the optimizers do not depend on the order).
      let g = SparseRowGradient(rows: ids[t], values: gradients[t])
      if ids[t].count * d >= 65_536, try TwHINFusedStep.applyInParallel(optimizers[t], to: model.tables[t].weight, g) { continue }
      try optimizers[t].apply(to: model.tables[t].weight, gradient: g)
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
        table.value.withUnsafeMutableBufferPointer { w in
          let (vp, wp) = (v.baseAddress!, w.baseAddress!)
          g.rows.withUnsafeBufferPointer { rows in
            parallelFor(rows.count, minimumPerThread: 256) { range in
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
      var acc = rw.state.removeValue(forKey: "momentum1") ?? Tensor.zeros([n])
      g.values.withUnsafeBufferPointer { v in
        acc.withUnsafeMutableBufferPointer { a in
          table.value.withUnsafeMutableBufferPointer { w in
            let (vp, ap, wp) = (v.baseAddress!, a.baseAddress!, w.baseAddress!)
            g.rows.withUnsafeBufferPointer { rows in
              parallelFor(rows.count, minimumPerThread: 256) { range in
                for k in range {
                  let r = rows[k]
                  var sq: Float = 0
                  for j in 0..<d { let x = vp[k * d + j]; sq += x * x }
                  ap[r] += sq / Float(d)
                  let scale = lr / (ap[r].squareRoot() + eps)
                  for j in 0..<d { wp[r * d + j] -= scale * vp[k * d + j] }
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
  let a: UnsafePointer<Float>, b: UnsafePointer<Float>, t: UnsafePointer<Float>
  let out: UnsafeMutablePointer<Float>

  /// Returns the block's Σ w·ℓ (unscaled) and whether every logit was finite.
  func run(_ blk: TwHINFusedStep.Block, _ w: Weights) -> (Double, Bool) {
    let d = self.d
    let (r, kl, kr) = (blk.lhs.count, blk.lhsCandidates.count, blk.rhsCandidates.count)
    let gL = out, gV = gL + r * d, gCl = gV + r * d, gCr = gCl + kl * d, crt = gCr + kr * d, gt = crt + kr * d, vt = gt + d, side = vt + d
    (out).update(repeating: 0, count: (2 * r + kl + kr) * d)
    gt.update(repeating: 0, count: d)
    for k in 0..<kr {  // C_r + t
      let c = b + Int(blk.rhsCandidates[k]) * d, dst = crt + k * d
      for j in 0..<d { dst[j] = c[j] + t[j] }
    }
    let sw = w.scale * w.negative
    var loss: Double = 0
    var finite = true
    for i in 0..<r {
      let l = a + Int(blk.lhs[i]) * d, v = b + Int(blk.rhs[i]) * d
      for j in 0..<d { vt[j] = v[j] + t[j] }
      let gl = gL + i * d, gv = gV + i * d
      // Positive: ℓ = softplus(−z), dz = scale·(σ(z) − 1).
      let z = dot(l, vt, d)
      let (spPos, sigPos) = softplusNegAndSigmoid(z)
      var acc = spPos
      let dp = w.scale * (sigPos - 1)
      for j in 0..<d {
        gl[j] += dp * vt[j]
        gv[j] += dp * l[j]
        gt[j] += dp * l[j]
      }
      // lhs side: z = ⟨V_i + t, C_l[k]⟩; ℓ = w·softplus(z), dz = scale·w·σ(z).
      // Σ_k dz_k·C_l[k] goes to both ∂V_i and ∂t: accumulate it once in `side`.
      var negAcc: Float = 0
      side.update(repeating: 0, count: d)
      for k in 0..<kl {
        let c = a + Int(blk.lhsCandidates[k]) * d
        let zk = dot(vt, c, d)
        let (sp, sig) = softplusNegAndSigmoid(zk)
        negAcc += zk + sp
        let g = sw * sig
        let gc = gCl + k * d
        for j in 0..<d {
          side[j] += g * c[j]
          gc[j] += g * vt[j]
        }
      }
      for j in 0..<d {
        gv[j] += side[j]
        gt[j] += side[j]
      }
      // rhs side: z = ⟨L_i, C_r[k] + t⟩.
      for k in 0..<kr {
        let c = crt + k * d
        let zk = dot(l, c, d)
        let (sp, sig) = softplusNegAndSigmoid(zk)
        negAcc += zk + sp
        let g = sw * sig
        let gc = gCr + k * d
        for j in 0..<d {
          gl[j] += g * c[j]
          gc[j] += g * l[j]
        }
      }
      acc += w.negative * negAcc
      if !acc.isFinite { finite = false }
      loss += Double(acc)
    }
    for k in 0..<kr { let gc = gCr + k * d; for j in 0..<d { gt[j] += gc[j] } }
    return (loss, finite)
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

/// Σ_j a[j]·b[j] with four partial sums (so the loop vectorises without reassociation).
@inline(__always) func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
  var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
  var j = 0
  while j + 4 <= n {
    s0 += a[j] * b[j]
    s1 += a[j + 1] * b[j + 1]
    s2 += a[j + 2] * b[j + 2]
    s3 += a[j + 3] * b[j + 3]
    j += 4
  }
  while j < n {
    s0 += a[j] * b[j]
    j += 1
  }
  return (s0 + s1) + (s2 + s3)
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
