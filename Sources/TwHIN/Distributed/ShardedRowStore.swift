import TMLDistributed
import TMLNN
import TMLTensor

/// This rank's rows of every table (`RowSharding`), and the exchanges of a sharded step:
///
///     gather:  ids grouped by owner  ──all-to-all──▶  owners copy their rows
///              rows                  ◀──all-to-all──  back, placed in request order
///     apply:   (row, ∂row) grouped by owner ──all-to-all──▶ the owner sums the parts per
///              row in rank order and runs the table's optimizer on its local rows
///
/// Every rank calls both for every table in the same order (MPI collectives).
final class ShardedRowStore: TwHINRowStore {
  let comm: any Communicator
  let sharding: RowSharding
  /// This rank's rows of each table, [localCount, dim].
  let tables: [Parameter]
  let optimizers: [any SparseRowOptimizer]
  let dim: Int

  init(comm: any Communicator, tables: [Parameter], optimizers: [any SparseRowOptimizer], dim: Int) {
    self.comm = comm
    sharding = RowSharding(rank: comm.rank, worldSize: comm.worldSize)
    self.tables = tables
    self.optimizers = optimizers
    self.dim = dim
  }

  func gather(table t: Int, ids: [Int], into dst: UnsafeMutablePointer<Float>) throws {
    let n = comm.worldSize, d = dim
    var requests = [[Int64]](repeating: [], count: n)
    var origin = [[Int]](repeating: [], count: n)  // position in `ids` of each request
    for (i, g) in ids.enumerated() {
      let q = sharding.owner(of: g)
      requests[q].append(Int64(g))
      origin[q].append(i)
    }
    let asked = try comm.allToAllV(requests)
    let replies: [[Float]] = tables[t].value.withUnsafeBufferPointer { w in
      asked.map { rows in
        var out = [Float](repeating: 0, count: rows.count * d)
        for (k, g) in rows.enumerated() {
          let local = sharding.localRow(of: Int(g))
          for j in 0..<d { out[k * d + j] = w[local * d + j] }
        }
        return out
      }
    }
    let received = try comm.allToAllV(replies)
    for q in 0..<n {
      for (k, i) in origin[q].enumerated() {
        for j in 0..<d { dst[i * d + j] = received[q][k * d + j] }
      }
    }
  }

  func agree(failure: String?) throws {
    do { try comm.agree(failed: failure) } catch let e as DistributedError { throw TwHINError(e.description) }
  }

  func apply(table t: Int, _ g: SparseRowGradient) throws {
    let n = comm.worldSize, d = dim
    var ids = [[Int64]](repeating: [], count: n), values = [[Float]](repeating: [], count: n)
    let v = g.values.scalars
    for (k, row) in g.rows.enumerated() {
      let q = sharding.owner(of: row)
      ids[q].append(Int64(row))
      values[q].append(contentsOf: v[(k * d)..<((k + 1) * d)])
    }
    let gotIDs = try comm.allToAllV(ids), gotValues = try comm.allToAllV(values)
    // Sum the parts per local row, in rank order (deterministic), rows in first-seen order.
    var slot: [Int: Int] = [:]
    var rows: [Int] = [], sums: [Float] = []
    for q in 0..<n {
      for (k, g) in gotIDs[q].enumerated() {
        let local = sharding.localRow(of: Int(g))
        let s: Int
        if let existing = slot[local] { s = existing } else {
          s = rows.count
          slot[local] = s
          rows.append(local)
          sums.append(contentsOf: repeatElement(0, count: d))
        }
        for j in 0..<d { sums[s * d + j] += gotValues[q][k * d + j] }
      }
    }
    guard !rows.isEmpty else { return }
    let gradient = SparseRowGradient(rows: rows, values: try Tensor(shape: [rows.count, d], scalars: sums))
    if rows.count * d >= 65_536, try TwHINFusedStep.applyInParallel(optimizers[t], to: tables[t], gradient) { return }
    try optimizers[t].apply(to: tables[t], gradient: gradient)
  }
}
