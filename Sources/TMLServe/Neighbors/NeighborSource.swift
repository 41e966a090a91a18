import TwHIN

/// Answers "the k rhs rows with the best score s(u, r, v) = ⟨e_u, op_r(e_v)⟩ for lhs row u
/// and relation r", best first. `/v1/neighbors` and `/v1/feed` ask through this protocol:
/// `ExactNeighborScan` is the full scan (`TwHINModel.neighbors`, GEMM + heap), and an
/// approximate index (HNSW) conforms to it to be plugged in with
/// `LoadedTwHIN.approximate[relation]`.
///
///     let top = try twhin.source(relation: r, exact: false).neighbors(lhs: 17, relation: r, k: 10)
public protocol NeighborSource: Sendable {
  /// How the neighbours are found, reported in the reply (`"exact"`, `"hnsw"`, …).
  var method: String { get }
  /// The k best rhs rows of (lhs row, relation) (fewer when the table has fewer rows).
  func neighbors(lhs: Int, relation: Int, k: Int) throws -> [Neighbor]
}

/// The exact scan of the whole rhs table (`TwHINModel.neighbors`): every candidate
/// scored by one GEMM, the best k kept in a heap; ties go to the lower row.
public struct ExactNeighborScan: NeighborSource, @unchecked Sendable {
  public let model: TwHINModel
  public var method: String { "exact" }
  public init(model: TwHINModel) { self.model = model }

  public func neighbors(lhs: Int, relation: Int, k: Int) throws -> [Neighbor] {
    try model.neighbors(lhs: lhs, relation: relation, k: k)
  }
}
