import TMLTensor

/// Which rows of a row-sharded parameter this process holds: of a whole tensor with
/// `rows` rows, global row g lives on rank g mod N as local row ⌊g / N⌋ (round-robin,
/// the layout of `CheckpointShardManifest`). A parameter with a `rowShard` holds only
/// `localRows` rows; `loadStateDict` takes the whole tensor and keeps this rank's rows,
/// data-parallel training neither broadcasts nor all-reduces it, and sharded checkpoints
/// write it as this rank's shard.
///
///     let s = RowShard(rank: 1, worldSize: 2, rows: 5)   // holds global rows 1, 3
///     s.localRows == 2;  s.globalRow(1) == 3
public struct RowShard: Equatable, Sendable {
  public let rank: Int
  public let worldSize: Int
  /// Rows of the whole tensor.
  public let rows: Int

  public init(rank: Int, worldSize: Int, rows: Int) {
    self.rank = rank
    self.worldSize = max(worldSize, 1)
    self.rows = rows
  }

  /// Rows of the whole tensor that live on this rank.
  public var localRows: Int { RowShard.localRows(rows, rank: rank, worldSize: worldSize) }

  public static func localRows(_ rows: Int, rank: Int, worldSize: Int) -> Int {
    rows > rank ? (rows - rank + worldSize - 1) / worldSize : 0
  }

  /// The global row of local row `local`.
  public func globalRow(_ local: Int) -> Int { local * worldSize + rank }

  /// The shape of the whole tensor of which `localShape` is this rank's part.
  public func wholeShape(_ localShape: [Int]) -> [Int] { [rows] + localShape.dropFirst() }

  /// Throws unless a whole tensor of `wholeRows` rows (`name` in `source`) is the one this
  /// shard is part of.
  public func requireRows(_ wholeRows: Int, of name: String, in source: String) throws {
    guard wholeRows == rows else {
      throw TensorError("checkpoint: \(name) has \(wholeRows) rows in \(source) but the model's table has \(rows); load it into a model of the same size (num_embeddings)")
    }
  }

  /// This rank's rows of `whole` ([rows, …]), in local order.
  public func slice(_ whole: Tensor) throws -> Tensor {
    guard whole.shape.first == rows else {
      throw TensorError("RowShard.slice: the whole tensor has shape \(describe(shape: whole.shape)), expected \(rows) rows")
    }
    let width = whole.shape.dropFirst().reduce(1, *), n = localRows
    var out = [Float](repeating: 0, count: n * width)
    whole.withUnsafeBufferPointer { w in
      for l in 0..<n {
        let g = globalRow(l)
        for j in 0..<width { out[l * width + j] = w[g * width + j] }
      }
    }
    return try Tensor(shape: [n] + whole.shape.dropFirst(), scalars: out)
  }
}

extension Module {
  /// The row shard of every row-sharded parameter (`Parameter.rowShard`), by name.
  public var rowShards: [String: RowShard] {
    Dictionary(uniqueKeysWithValues: namedParameters().compactMap { n, p in p.rowShard.map { (n, $0) } })
  }
}
