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
  /// This rank's rows of each table, [localCount, dim] (at least one row allocated).
  let tables: [Parameter]
  let optimizers: [any SparseRowOptimizer]
  /// The all-to-alls of each table (`RowShardExchange`, the same round-robin as `RowSharding`).
  let exchanges: [RowShardExchange]

  /// `rows[t]`: table t's whole row count.
  init(comm: any Communicator, tables: [Parameter], rows: [Int], optimizers: [any SparseRowOptimizer], dim: Int) {
    self.comm = comm
    self.tables = tables
    self.optimizers = optimizers
    exchanges = rows.map { RowShardExchange(rows: $0, dim: dim, communicator: comm) }
  }

  func gather(table t: Int, ids: [Int], into dst: UnsafeMutablePointer<Float>) throws {
    let rows = try distributed { try tables[t].value.withUnsafeBufferPointer { try exchanges[t].lookup(ids, local: $0) } }
    rows.withUnsafeBufferPointer { if let base = $0.baseAddress { dst.update(from: base, count: $0.count) } }
  }

  func agree(failure: String?) throws {
    try distributed { try comm.agree(failed: failure) }
  }

  func apply(table t: Int, _ g: SparseRowGradient) throws {
    let d = exchanges[t].dim
    // The owners sum the parts per local row, in rank order (deterministic).
    let (rows, sums) = try distributed { try exchanges[t].reduceToOwners(ids: g.rows, gradients: g.values.scalars) }
    guard !rows.isEmpty else { return }
    let gradient = SparseRowGradient(rows: rows, values: try Tensor(shape: [rows.count, d], scalars: sums))
    if rows.count * d >= 65_536, try TwHINFusedStep.applyInParallel(optimizers[t], to: tables[t], gradient) { return }
    try optimizers[t].apply(to: tables[t], gradient: gradient)
  }

  /// A collective's error as a TwHIN error.
  private func distributed<R>(_ body: () throws -> R) throws -> R {
    do { return try body() } catch let e as DistributedError { throw TwHINError(e.description) }
  }
}
