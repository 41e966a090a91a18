import TMLNN

/// How a table's rows are spread over the ranks of an MPI job: **round-robin**, global row
/// g on rank g mod N at local row ⌊g / N⌋. Rank k holds ⌈(n − k) / N⌉ of a table's n rows.
/// Round-robin keeps the shards within one row of each other and spreads the popular low
/// ids (vocabularies are often sorted by frequency) over all ranks.
///
///     let s = RowSharding(rank: 1, worldSize: 2)
///     s.owner(of: 7) == 1, s.localRow(of: 7) == 3, s.globalRow(ofLocal: 3) == 7
public struct RowSharding: Equatable, Sendable {
  public let rank: Int
  public let worldSize: Int

  public init(rank: Int, worldSize: Int) {
    self.rank = rank
    self.worldSize = worldSize
  }

  public func owner(of row: Int) -> Int { row % worldSize }
  public func localRow(of row: Int) -> Int { row / worldSize }
  public func globalRow(ofLocal local: Int) -> Int { local * worldSize + rank }
  /// Rows of an n-row table on this rank.
  public func localCount(rows n: Int) -> Int { localCount(rows: n, rank: rank) }
  public func localCount(rows n: Int, rank k: Int) -> Int { RowShard.localRows(n, rank: k, worldSize: worldSize) }
}
