/// The two all-to-all exchanges of a table of `rows` × `dim` floats sharded round-robin
/// over the ranks (global row i on rank i mod N as local row ⌊i / N⌋, torchrec's
/// ROW_WISE sharding): a lookup routes ids to their owners and brings the rows back, and
/// a gradient reduction routes row gradients to the owners, which sum them per row:
///
///     lookup(ids)[k]          = W[ids[k]]                                  (2 all-to-all-v)
///     reduceToOwners(ids, g)  = for each local row ℓ touched on any rank:
///                               (ℓ, Σ_{ranks, ids[k] = global(ℓ)} g[k])   (2 all-to-all-v)
///
/// Sums run in rank order, then position. Every rank must call the same exchanges in the
/// same order (a rank with no ids sends none). The table's storage stays with the caller
/// (`RowShardedTable`, `RowShardedEmbeddingBag`'s parameter).
public struct RowShardExchange {
  public let rows: Int
  public let dim: Int
  public let communicator: any Communicator

  public init(rows: Int, dim: Int, communicator: any Communicator) {
    self.rows = rows
    self.dim = dim
    self.communicator = communicator
  }

  func check(_ ids: [Int]) throws {
    if let bad = ids.first(where: { $0 < 0 || $0 >= rows }) {
      throw DistributedError("row-sharded table: id \(bad) is outside 0..<\(rows) (rank \(communicator.rank))")
    }
  }

  /// Sends each id to its owner; returns, per sending rank, the ids this rank owns that it
  /// was asked for, and per owner the positions in `ids` of what was sent there.
  private func route(_ ids: [Int]) throws -> (received: [[Int64]], positions: [[Int]]) {
    let n = communicator.worldSize
    var send = [[Int64]](repeating: [], count: n), positions = [[Int]](repeating: [], count: n)
    for (k, id) in ids.enumerated() {
      send[id % n].append(Int64(id))
      positions[id % n].append(k)
    }
    return (try communicator.allToAllV(send), positions)
  }

  /// The rows of `ids` (global), `ids.count × dim` floats in order; `local` holds this
  /// rank's `localRows × dim` floats.
  public func lookup(_ ids: [Int], local: UnsafeBufferPointer<Float>) throws -> [Float] {
    try check(ids)
    let n = communicator.worldSize, dim = self.dim
    let (requests, positions) = try route(ids)
    let replies: [[Float]] = requests.map { asked in
      var out = [Float](repeating: 0, count: asked.count * dim)
      for (k, id) in asked.enumerated() {
        let at = (Int(id) / n) * dim
        for j in 0..<dim { out[k * dim + j] = local[at + j] }
      }
      return out
    }
    let got = try communicator.allToAllV(replies)
    var result = [Float](repeating: 0, count: ids.count * dim)
    for q in 0..<n {
      for (k, p) in positions[q].enumerated() {
        for j in 0..<dim { result[p * dim + j] = got[q][k * dim + j] }
      }
    }
    return result
  }

  /// Sends `gradients` (`ids.count × dim`) to the rows' owners; returns this rank's local
  /// rows that any rank touched (in the order first received) and their summed gradients
  /// (`rows.count × dim`).
  public func reduceToOwners(ids: [Int], gradients: [Float]) throws -> (rows: [Int], sums: [Float]) {
    try check(ids)
    guard gradients.count == ids.count * dim else {
      throw DistributedError("row-sharded table: \(gradients.count) gradient floats for \(ids.count) ids of width \(dim)")
    }
    let n = communicator.worldSize, dim = self.dim
    let (received, positions) = try route(ids)
    let sent: [[Float]] = positions.map { ps in
      var out = [Float](repeating: 0, count: ps.count * dim)
      for (k, p) in ps.enumerated() { for j in 0..<dim { out[k * dim + j] = gradients[p * dim + j] } }
      return out
    }
    let grads = try communicator.allToAllV(sent)
    var slot: [Int: Int] = [:], order: [Int] = [], sums: [Float] = []
    for q in 0..<n {
      for (k, id) in received[q].enumerated() {
        let row = Int(id) / n
        let s: Int
        if let found = slot[row] { s = found } else {
          s = order.count
          slot[row] = s
          order.append(row)
          sums.append(contentsOf: repeatElement(0, count: dim))
        }
        for j in 0..<dim { sums[s * dim + j] += grads[q][k * dim + j] }
      }
    }
    return (order, sums)
  }
}
