/// Top-k maximum-inner-product search over a fixed set of candidate vectors
/// x_0 … x_{n−1} ∈ ℝᵈ (the rows of one TwHIN table):
///
///     search(q, k) = the k ids v with the largest ⟨q, x_v⟩, best first (ties: lower id first)
///
/// A TwHIN query (u, r) maps to q = adjoint_r(e_u) plus a constant shift ⟨e_u, t_r⟩ for
/// translation, which does not change the order (see `TwHINModel.neighbors`). Two
/// implementations: `ExactInnerProductSearch` (a full scan, the reference) and the
/// HNSW index (approximate, much faster on large tables).
public protocol NeighborSearch: Sendable {
  /// d, the length every query must have.
  var dimension: Int { get }
  /// n, the number of candidate vectors.
  var count: Int { get }
  /// The k best candidates for `query` (fewer when n < k). Throws on a query whose
  /// length is not `dimension` or on k < 0.
  func search(query: [Float], k: Int) throws -> [Neighbor]
}

extension NeighborSearch {
  /// Throws unless `query` has `dimension` values and k ≥ 0.
  public func checkQuery(_ query: [Float], k: Int) throws {
    guard query.count == dimension else {
      throw TwHINError("neighbor search: the query has \(query.count) values, the index has dimension \(dimension)")
    }
    guard k >= 0 else { throw TwHINError("neighbor search: k must be ≥ 0, got \(k)") }
  }
}

/// The exact scan: ⟨q, x_v⟩ for every v, kept in a size-k heap (`TopK`). O(n·d) per query.
public struct ExactInnerProductSearch: NeighborSearch {
  public let dimension: Int
  public let count: Int
  /// Row-major n × d.
  private let vectors: [Float]

  /// `vectors` is row-major, `count × dimension`.
  public init(vectors: [Float], dimension: Int) throws {
    guard dimension > 0, vectors.count % dimension == 0 else {
      throw TwHINError("exact neighbor search: \(vectors.count) values is not a whole number of rows of dimension \(dimension)")
    }
    self.vectors = vectors
    self.dimension = dimension
    self.count = vectors.count / dimension
  }

  public func search(query: [Float], k: Int) throws -> [Neighbor] {
    try checkQuery(query, k: k)
    var top = TopK(k: k)
    let d = dimension
    vectors.withUnsafeBufferPointer { x in
      query.withUnsafeBufferPointer { q in
        for v in 0..<count {
          let row = x.baseAddress! + v * d
          var s: Float = 0
          for j in 0..<d { s += q[j] * row[j] }
          top.offer(id: v, score: s)
        }
      }
    }
    return top.sorted()
  }
}
