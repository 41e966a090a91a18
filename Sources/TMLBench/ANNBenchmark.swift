import CHNSW
import Foundation
import TMLANN
import TMLTensor
import TwHIN

/// `tml bench ann`: HNSW against the exact scan on n random d-vectors (rows and queries drawn
/// i.i.d. N(0, I), uniform on the unit sphere, or `clustered`: a mixture of n/1000 Gaussian
/// clusters, centre ~ N(0, I), spread 0.25 per coordinate, like trained embedding tables
/// more than i.i.d. noise), maximum inner product, k = 10.
///
///     recall@k = |HNSW top-k ∩ exact top-k| / k, averaged over the queries
///     speed-up = exact scan time per query / HNSW time per query   (both on one thread)
///
/// The exact scan is ⟨q, x_i⟩ for every row with the index's own SIMD dot kernel and a
/// size-k heap: one pass over the n·d floats, bound by memory bandwidth at this size.
public struct ANNBenchmark {
  public enum Distribution: String, Sendable { case gaussian, sphere, clustered }
  /// `hnsw`: the graph index, one point per ef; `pq`: the 4-bit PQ fast scan
  /// (`PQFastScanIndex`, `subspaces`), one point per number of rows rescored (`efs`).
  public enum Method: String, Sendable { case hnsw, pq }

  public var rows: Int
  public var dimension: Int
  public var queries: Int
  public var k: Int
  public var parameters: HNSWParameters
  public var efs: [Int]
  public var buildThreads: Int
  public var distribution: Distribution
  public var seed: UInt64
  public var method: Method = .hnsw
  public var subspaces = 16

  public init(rows: Int = 1_000_000, dimension: Int = 128, queries: Int = 200, k: Int = 10, parameters: HNSWParameters = HNSWParameters(),
              efs: [Int] = [10, 20, 50, 100, 200, 400], buildThreads: Int = ProcessInfo.processInfo.activeProcessorCount,
              distribution: Distribution = .gaussian, seed: UInt64 = 1) {
    self.rows = rows
    self.dimension = dimension
    self.queries = queries
    self.k = k
    self.parameters = parameters
    self.efs = efs
    self.buildThreads = buildThreads
    self.distribution = distribution
    self.seed = seed
  }

  public struct Point: Sendable {
    public var ef: Int
    public var recall: Double
    public var millisecondsPerQuery: Double
    public var speedup: Double
  }

  public struct Result: Sendable {
    public var buildSeconds: Double
    public var exactMillisecondsPerQuery: Double
    public var points: [Point]
    public var kernel: String
  }

  /// `progress(phase, done, total)` reports the build and the exact scans.
  public func run(progress: ((String, Int, Int) -> Void)? = nil) throws -> Result {
    let data = draw(rows, seed: seed), q = draw(queries, seed: seed &+ 1)
    let start = Date()
    var graph: HNSWIndex? = nil, pq: PQFastScanIndex? = nil
    switch method {
    case .hnsw:
      graph = try HNSWIndex(vectors: data, dimension: dimension, parameters: parameters, threads: buildThreads) { done, n in
        progress?("build", done, n)
      }
    case .pq:
      pq = try PQFastScanIndex(vectors: data, dimension: dimension, subspaces: subspaces, seed: seed) { done, n in
        progress?("build", done, n)
      }
    }
    let buildSeconds = Date().timeIntervalSince(start)

    var truth: [Set<Int>] = []
    var scores = [Float](repeating: 0, count: rows)
    let exactStart = Date()
    data.withUnsafeBufferPointer { x in
      q.withUnsafeBufferPointer { qp in
        for i in 0..<queries {
          tml_inner_products(x.baseAddress!, rows, dimension, qp.baseAddress! + i * dimension, &scores)
          var top = TopK(k: k)
          for v in 0..<rows { top.offer(id: v, score: scores[v]) }
          truth.append(Set(top.sorted().map(\.id)))
          progress?("exact scan", i + 1, queries)
        }
      }
    }
    let exactMs = Date().timeIntervalSince(exactStart) * 1000 / Double(queries)

    var points: [Point] = []
    for ef in efs {
      let t0 = Date()
      let found: [[Neighbor]]
      if let graph {
        graph.ef = ef
        found = try graph.search(queries: q, k: k, threads: 1)
      } else {
        pq!.rerank = ef
        found = try (0..<queries).map { i in try pq!.search(query: Array(q[(i * dimension)..<((i + 1) * dimension)]), k: k) }
      }
      let ms = Date().timeIntervalSince(t0) * 1000 / Double(queries)
      let hits = zip(found, truth).map { f, t in f.filter { t.contains($0.id) }.count }.reduce(0, +)
      points.append(Point(ef: ef, recall: Double(hits) / Double(queries * k), millisecondsPerQuery: ms, speedup: exactMs / ms))
    }
    return Result(buildSeconds: buildSeconds, exactMillisecondsPerQuery: exactMs, points: points,
                  kernel: method == .hnsw ? HNSWIndex.kernel : "pq4 \(PQFastScanIndex.kernel) scan")
  }

  /// n rows of the distribution (`RandomGenerator` normals; sphere: normalised Gaussians;
  /// clustered: a centre drawn from the benchmark's seed, so rows and queries share them,
  /// plus 0.25 × N(0, I)).
  func draw(_ n: Int, seed: UInt64) -> [Float] {
    var rng = RandomGenerator(seed: seed)
    var out = (0..<(n * dimension)).map { _ in rng.normal() }
    if distribution == .clustered {
      let c = max(1, rows / 1000)
      var centreDraw = RandomGenerator(seed: self.seed, stream: 0xCE17)
      let centres = (0..<(c * dimension)).map { _ in centreDraw.normal() }
      for row in 0..<n {
        let k = rng.int(below: c)
        for j in 0..<dimension { out[row * dimension + j] = centres[k * dimension + j] + 0.25 * out[row * dimension + j] }
      }
    }
    if distribution == .sphere {
      for row in 0..<n {
        var s: Float = 0
        for j in 0..<dimension { s += out[row * dimension + j] * out[row * dimension + j] }
        let inv = 1 / max(s.squareRoot(), 1e-12)
        for j in 0..<dimension { out[row * dimension + j] *= inv }
      }
    }
    return out
  }
}
