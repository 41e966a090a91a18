/// Checks `RowShardedTable` against one unsharded table (part of `tml distributed check`):
/// a 37 × 3 table, 5 SGD steps (lr 0.1) in which rank r looks up r + 3 ids (with repeats)
/// and sends a gradient for each. Every rank also keeps the whole table and applies all
/// ranks' gradients to it (gathered), summed in the same order; lookups and the final
/// table must equal it exactly.
///
///     let line = try ShardedTableCheck.run(comm)   // "row-sharded table: ok"
public enum ShardedTableCheck {
  public static func run(_ comm: any Communicator) throws -> String {
    let rows = 37, dim = 3, lr: Float = 0.1
    func initial(_ i: Int, _ j: Int) -> Float { Float(i) * 0.1 - Float(j) * 0.03 }
    let table = RowShardedTable(rows: rows, dim: dim, communicator: comm) { i, row in
      for j in 0..<dim { row[j] = initial(i, j) }
    }
    var reference = (0..<rows * dim).map { initial($0 / dim, $0 % dim) }
    for step in 0..<5 {
      let r = comm.rank
      let ids = (0..<(r + 3)).map { k in (7 * k + 11 * r + 5 * step) % rows }
      let grads = (0..<ids.count * dim).map { Float(($0 * 13 + r * 7 + step) % 17) / 17 - 0.5 }
      let looked = try table.lookup(ids)
      for (k, id) in ids.enumerated() where Array(looked[k * dim..<(k + 1) * dim]) != Array(reference[id * dim..<(id + 1) * dim]) {
        throw DistributedError("row-sharded table, step \(step), rank \(r): lookup of row \(id) returned \(Array(looked[k * dim..<(k + 1) * dim])), expected \(Array(reference[id * dim..<(id + 1) * dim]))")
      }
      try table.apply(ids: ids, gradients: grads) { w, g in for j in 0..<w.count { w[j] -= lr * g[j] } }
      // The unsharded reference: every rank's gradients, summed per row in rank order.
      let allIDs = try comm.allGatherV(ids.map { Int64($0) }), allGrads = try comm.allGatherV(grads)
      var sums: [Int: [Float]] = [:]
      var order: [Int] = []
      for q in 0..<comm.worldSize {
        for (k, id) in allIDs[q].enumerated() {
          let i = Int(id)
          if sums[i] == nil { sums[i] = [Float](repeating: 0, count: dim); order.append(i) }
          for j in 0..<dim { sums[i]![j] += allGrads[q][k * dim + j] }
        }
      }
      for i in order { for j in 0..<dim { reference[i * dim + j] -= lr * sums[i]![j] } }
    }
    let final = try table.gathered()
    if let bad = (0..<rows * dim).first(where: { final[$0] != reference[$0] }) {
      throw DistributedError("row-sharded table on rank \(comm.rank): row \(bad / dim) is \(final[bad]) at column \(bad % dim) after 5 steps, the unsharded table has \(reference[bad])")
    }
    return "row-sharded table: ok"
  }
}
