/// An embedding table of `rows` × `dim` floats sharded row-wise over the ranks (torchrec's
/// ROW_WISE sharding): global row i lives on rank i mod N at local row ⌊i / N⌋. A rank
/// looks rows up by global id — ids are routed to their owners and the rows come back
/// (two all-to-all-v) — and sends row gradients to the owners, which sum them per row
/// and apply a sparse rule to the rows touched (two more all-to-all-v):
///
///     lookup(ids)[k]      = W[ids[k]]
///     apply(ids, g, rule) : for each distinct row i:  W[i] ← rule(W[i], Σ_{ids[k] = i, all ranks} g[k])
///
/// so N ranks holding 1/N of the table compute what one process holding all of it does.
/// Every collective is called by all ranks in the same order (a rank with no ids sends none).
///
///     let t = RowShardedTable(rows: 1_000, dim: 8, communicator: comm) { row, out in out.update(repeating: Float(row)) }
///     let e = try t.lookup([3, 7, 3]);  try t.apply(ids: [3], gradients: g) { w, g in w -= 0.1 * g }
public final class RowShardedTable {
  public let rows: Int
  public let dim: Int
  public let communicator: any Communicator
  /// This rank's rows, ⌊i / N⌋-th at [⌊i / N⌋·dim, (⌊i / N⌋ + 1)·dim).
  public var local: [Float]

  /// `initialize(i, row)` fills global row i (the same function on every rank gives the
  /// same table whatever the rank count).
  public init(rows: Int, dim: Int, communicator: any Communicator, initialize: (Int, UnsafeMutableBufferPointer<Float>) -> Void) {
    self.rows = rows
    self.dim = dim
    self.communicator = communicator
    let n = communicator.worldSize, r = communicator.rank
    let count = Self.localRows(rows: rows, rank: r, worldSize: n)
    var values = [Float](repeating: 0, count: count * dim)
    values.withUnsafeMutableBufferPointer { buf in
      for k in 0..<count { initialize(r + k * n, UnsafeMutableBufferPointer(rebasing: buf[k * dim..<(k + 1) * dim])) }
    }
    local = values
  }

  /// Rows of `rows` that rank `rank` of `worldSize` owns.
  public static func localRows(rows: Int, rank: Int, worldSize: Int) -> Int {
    rows > rank ? (rows - rank + worldSize - 1) / worldSize : 0
  }

  public var owner: (Int) -> Int { let n = communicator.worldSize; return { $0 % n } }

  var exchange: RowShardExchange { RowShardExchange(rows: rows, dim: dim, communicator: communicator) }

  /// The rows of `ids` (global), `ids.count × dim` floats in order.
  public func lookup(_ ids: [Int]) throws -> [Float] {
    try local.withUnsafeBufferPointer { try exchange.lookup(ids, local: $0) }
  }

  /// Sends `gradients` (`ids.count × dim`) to the rows' owners, which sum them per row (in
  /// rank order, then position) and apply `rule(row, gradient)` once to every row touched.
  public func apply(ids: [Int], gradients: [Float], rule: (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void) throws {
    let (touched, sums) = try exchange.reduceToOwners(ids: ids, gradients: gradients)
    local.withUnsafeMutableBufferPointer { w in
      sums.withUnsafeBufferPointer { g in
        for (s, row) in touched.enumerated() {
          rule(UnsafeMutableBufferPointer(rebasing: w[row * dim..<(row + 1) * dim]), UnsafeBufferPointer(rebasing: g[s * dim..<(s + 1) * dim]))
        }
      }
    }
  }

  /// The whole table on every rank (rows in global order), for checks and small exports.
  public func gathered() throws -> [Float] {
    let n = communicator.worldSize
    let parts = try communicator.allGatherV(local)
    var out = [Float](repeating: 0, count: rows * dim)
    for q in 0..<n {
      for k in 0..<(parts[q].count / max(dim, 1)) {
        let i = q + k * n
        for j in 0..<dim { out[i * dim + j] = parts[q][k * dim + j] }
      }
    }
    return out
  }
}
