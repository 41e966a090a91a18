import TMLNN
import TMLTensor

/// Where `TwHINFusedStep` reads the table rows a step needs and sends their gradients.
///
///     gather(t, ids)  → E_t[ids]                     (ids are global rows of table t)
///     agree(failure)  → throws everywhere if any process failed, before any update
///     apply(t, g)     → E_t[g.rows] updated by table t's optimizer with g.values
///
/// `LocalRowStore` holds whole tables in this process; `ShardedRowStore` holds this
/// rank's rows and exchanges the others with MPI all-to-alls. `apply` is called for every
/// table, even with no rows, so that every process makes the same collective calls.
protocol TwHINRowStore {
  func gather(table: Int, ids: [Int], into dst: UnsafeMutablePointer<Float>) throws
  func agree(failure: String?) throws
  func apply(table: Int, _ gradient: SparseRowGradient) throws
}

/// The whole model in this process: rows copied from `model.tables`, updates by the fused
/// optimizers (split across the cores when large).
struct LocalRowStore: TwHINRowStore {
  let model: TwHINModel
  let optimizers: [any SparseRowOptimizer]

  func gather(table t: Int, ids: [Int], into dst: UnsafeMutablePointer<Float>) throws {
    let d = model.dim
    model.tables[t].weight.value.withUnsafeBufferPointer { w in
      ids.withUnsafeBufferPointer { idp in
        let (src, list) = (w.baseAddress!, idp.baseAddress!)
        // Random rows of a large table miss the caches and the TLB: fetch them on all cores.
        parallelFor(idp.count, minimumPerThread: max(64, 16_384 / d)) { range in
          for k in range { (dst + k * d).update(from: src + list[k] * d, count: d) }
        }
      }
    }
  }

  func agree(failure: String?) throws {
    if let failure { throw TwHINError(failure) }
  }

  func apply(table t: Int, _ g: SparseRowGradient) throws {
    guard !g.rows.isEmpty else { return }
    if g.rows.count * model.dim >= 65_536, try TwHINFusedStep.applyInParallel(optimizers[t], to: model.tables[t].weight, g) { return }
    try optimizers[t].apply(to: model.tables[t].weight, gradient: g)
  }
}
