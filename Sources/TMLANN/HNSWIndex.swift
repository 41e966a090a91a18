import CHNSW
import Foundation
import TwHIN

/// Build parameters of an HNSW graph (Malkov & Yashunin, "Efficient and robust approximate
/// nearest neighbor search using Hierarchical Navigable Small World graphs", 2018):
/// `m` links per node and layer (2·m on layer 0), `efConstruction` the candidate list while
/// inserting, `seed` the layer draws (level ℓ with probability ∝ exp(−ℓ·ln m)).
public struct HNSWParameters: Equatable, Sendable, Codable {
  public var m: Int
  public var efConstruction: Int
  public var seed: UInt64
  public init(m: Int = 16, efConstruction: Int = 200, seed: UInt64 = 100) {
    self.m = m
    self.efConstruction = efConstruction
    self.seed = seed
  }
}

/// What the graph measures: `innerProduct` (score ⟨q, x⟩, hnswlib distance 1 − ⟨q, x⟩, the
/// TwHIN score) or `l2` (score −‖q − x‖²).
public enum HNSWMetric: String, Sendable, Codable {
  case innerProduct = "inner_product"
  case l2
  var code: Int32 { self == .innerProduct ? Int32(TML_HNSW_INNER_PRODUCT) : Int32(TML_HNSW_L2) }
}

/// An approximate top-k search over the rows x_0 … x_{n−1} of a row-major matrix: an HNSW
/// graph from hnswlib (Debian's libhnswlib-dev, through the `CHNSW` shim), searched greedily
/// from the top layer down with a candidate list of `ef` (≥ k) on layer 0. Larger `ef`:
/// higher recall, slower queries. Searches may run concurrently; `ef` is set per index.
///
///     let index = try HNSWIndex(vectors: table, dimension: 64)
///     index.ef = 100
///     let top = try index.search(query: q, k: 10)   // ≈ ExactInnerProductSearch's answer
public final class HNSWIndex: NeighborSearch, @unchecked Sendable {
  public let dimension: Int
  public let metric: HNSWMetric
  private let handle: OpaquePointer
  private var searchBreadth = 10

  /// The candidate list length on layer 0 for searches (max(ef, k) is used). Set it before
  /// the index is shared between threads.
  public var ef: Int {
    get { searchBreadth }
    set {
      searchBreadth = max(1, newValue)
      tml_hnsw_set_ef(handle, searchBreadth)
    }
  }

  public var count: Int { Int(tml_hnsw_count(handle)) }

  /// The distance kernel this CPU runs ("avx512", "avx2+fma" or "scalar").
  public static var kernel: String { String(cString: tml_hnsw_kernel()) }

  /// Builds the graph over `vectors` (row-major, n × `dimension`; row i gets id i) with
  /// `threads` inserting threads (1: the same graph for the same seed every time; more:
  /// insertion order, and so the graph, varies from run to run). `progress(done, n)` is
  /// called as blocks of rows are inserted.
  public init(vectors: [Float], dimension: Int, metric: HNSWMetric = .innerProduct, parameters: HNSWParameters = HNSWParameters(),
              threads: Int = 1, progress: ((Int, Int) -> Void)? = nil) throws {
    guard dimension > 0, vectors.count % dimension == 0 else {
      throw TwHINError("HNSW index: \(vectors.count) values is not a whole number of rows of dimension \(dimension)")
    }
    guard parameters.m >= 2, parameters.efConstruction >= 1 else {
      throw TwHINError("HNSW index: m must be ≥ 2 and ef_construction ≥ 1 (got m \(parameters.m), ef_construction \(parameters.efConstruction))")
    }
    let n = vectors.count / dimension
    var error = [CChar](repeating: 0, count: 512)
    guard let h = tml_hnsw_create(metric.code, dimension, max(1, n), parameters.m, parameters.efConstruction, parameters.seed, &error, error.count) else {
      throw TwHINError("HNSW index: cannot create a graph for \(n) vectors: \(String(cString: error))")
    }
    self.handle = h
    self.dimension = dimension
    self.metric = metric
    let block = max(1, min(n, max(1000, n / 100)))
    var done = 0
    try vectors.withUnsafeBufferPointer { v in
      while done < n {
        let c = min(block, n - done)
        if tml_hnsw_add(h, v.baseAddress! + done * dimension, done, c, max(1, threads), &error, error.count) != 0 {
          throw TwHINError("HNSW index: inserting rows \(done)…\(done + c - 1): \(String(cString: error))")
        }
        done += c
        progress?(done, n)
      }
    }
  }

  /// Reads a graph written by `write(to:)`. The caller checks the file first (`ANNIndexFile`):
  /// hnswlib only checks the file's structure.
  public init(reading path: String, dimension: Int, metric: HNSWMetric) throws {
    var error = [CChar](repeating: 0, count: 512)
    guard let h = tml_hnsw_load(path, metric.code, dimension, &error, error.count) else {
      throw TwHINError("\(path): not a readable HNSW index of dimension \(dimension): \(String(cString: error))")
    }
    self.handle = h
    self.dimension = dimension
    self.metric = metric
  }

  deinit { tml_hnsw_free(handle) }

  /// Writes hnswlib's file format to `path` (checked for short writes).
  public func write(to path: String) throws {
    var error = [CChar](repeating: 0, count: 512)
    if tml_hnsw_save(handle, path, &error, error.count) != 0 { throw TwHINError("\(path): \(String(cString: error))") }
  }

  public func search(query: [Float], k: Int) throws -> [Neighbor] {
    try search(queries: query, k: k)[0]
  }

  /// The k best rows of each query (row-major, q × `dimension`), best first; `threads`
  /// threads share the queries. Scores are ⟨q, x⟩ (inner product) or −‖q − x‖² (l2).
  public func search(queries: [Float], k: Int, threads: Int = 1) throws -> [[Neighbor]] {
    guard queries.count % dimension == 0, !queries.isEmpty else {
      throw TwHINError("HNSW search: \(queries.count) query values is not a whole number of queries of dimension \(dimension)")
    }
    guard k >= 0 else { throw TwHINError("HNSW search: k must be ≥ 0, got \(k)") }
    let q = queries.count / dimension
    if k == 0 { return [[Neighbor]](repeating: [], count: q) }
    var labels = [Int64](repeating: -1, count: q * k)
    var distances = [Float](repeating: 0, count: q * k)
    var error = [CChar](repeating: 0, count: 512)
    let status = tml_hnsw_search(handle, queries, q, k, max(1, threads), &labels, &distances, &error, error.count)
    if status != 0 { throw TwHINError("HNSW search: \(String(cString: error))") }
    return (0..<q).map { i in
      (0..<k).compactMap { j -> Neighbor? in
        let id = labels[i * k + j]
        guard id >= 0 else { return nil }
        let d = distances[i * k + j]
        return Neighbor(id: Int(id), score: metric == .innerProduct ? 1 - d : -d)
      }
    }
  }
}
