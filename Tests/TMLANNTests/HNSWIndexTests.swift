import Foundation
import TMLANN
import TMLTensor
import TwHIN
import XCTest

/// The HNSW index (hnswlib through CHNSW) against the exact scan it approximates.
final class HNSWIndexTests: XCTestCase {
  /// n seeded Gaussian rows of dimension d.
  func gaussian(_ n: Int, _ d: Int, seed: UInt64) -> [Float] {
    var rng = RandomGenerator(seed: seed)
    return (0..<(n * d)).map { _ in rng.normal() }
  }

  func recall(_ index: HNSWIndex, _ exact: ExactInnerProductSearch, queries: [Float], k: Int) throws -> Double {
    let d = index.dimension, q = queries.count / d
    let approx = try index.search(queries: queries, k: k)
    var hits = 0
    for i in 0..<q {
      let truth = Set(try exact.search(query: Array(queries[(i * d)..<((i + 1) * d)]), k: k).map(\.id))
      hits += approx[i].filter { truth.contains($0.id) }.count
    }
    return Double(hits) / Double(q * k)
  }

  func testRecallAgainstTheExactScanGrowsWithEf() throws {
    let (n, d) = (2000, 16)
    let data = gaussian(n, d, seed: 1), queries = gaussian(50, d, seed: 2)
    let index = try HNSWIndex(vectors: data, dimension: d, parameters: HNSWParameters(m: 16, efConstruction: 100))
    let exact = try ExactInnerProductSearch(vectors: data, dimension: d)
    XCTAssertEqual(index.count, n)
    index.ef = 10
    let low = try recall(index, exact, queries: queries, k: 10)
    index.ef = 200
    let high = try recall(index, exact, queries: queries, k: 10)
    XCTAssertGreaterThanOrEqual(high, 0.97, "recall@10 at ef 200")
    XCTAssertGreaterThanOrEqual(high, low)
  }

  func testWithEfAtLeastNTheAnswerIsTheExactScan() throws {
    let (n, d) = (300, 8)
    let data = gaussian(n, d, seed: 3), queries = gaussian(20, d, seed: 4)
    let index = try HNSWIndex(vectors: data, dimension: d, parameters: HNSWParameters(m: 16, efConstruction: n))
    index.ef = n
    let exact = try ExactInnerProductSearch(vectors: data, dimension: d)
    for i in 0..<20 {
      let q = Array(queries[(i * d)..<((i + 1) * d)])
      let a = try index.search(query: q, k: 5), e = try exact.search(query: q, k: 5)
      XCTAssertEqual(a.map(\.id), e.map(\.id), "query \(i)")
      for (x, y) in zip(a, e) { XCTAssertEqual(x.score, y.score, accuracy: 1e-5) }
    }
  }

  func testL2MetricFindsTheNearestRows() throws {
    let d = 4
    let data: [Float] = [0, 0, 0, 0, 1, 0, 0, 0, 5, 5, 5, 5, 0, 1, 0, 0]
    let index = try HNSWIndex(vectors: data, dimension: d, metric: .l2)
    index.ef = 10
    let top = try index.search(query: [0.9, 0, 0, 0], k: 2)
    XCTAssertEqual(top.map(\.id), [1, 0])
    XCTAssertEqual(top[0].score, -0.01, accuracy: 1e-6)
  }

  func testParallelBuildReachesTheSameRecall() throws {
    let (n, d) = (2000, 16)
    let data = gaussian(n, d, seed: 5), queries = gaussian(50, d, seed: 6)
    let index = try HNSWIndex(vectors: data, dimension: d, threads: 2)
    index.ef = 200
    XCTAssertEqual(index.count, n)
    XCTAssertGreaterThanOrEqual(try recall(index, try ExactInnerProductSearch(vectors: data, dimension: d), queries: queries, k: 10), 0.97)
  }

  func testBadShapesAreErrors() throws {
    XCTAssertThrowsError(try HNSWIndex(vectors: [1, 2, 3], dimension: 2))
    XCTAssertThrowsError(try HNSWIndex(vectors: [1, 2], dimension: 2, parameters: HNSWParameters(m: 1)))
    let index = try HNSWIndex(vectors: [1, 2, 3, 4], dimension: 2)
    XCTAssertThrowsError(try index.search(query: [1, 2, 3], k: 1)) { XCTAssertTrue("\($0)".contains("dimension 2"), "\($0)") }
    XCTAssertThrowsError(try index.search(query: [1, 2], k: -1))
    XCTAssertEqual(try index.search(query: [1, 2], k: 5).count, 2, "k > n returns n rows")
  }

  func testTheKernelIsNamed() {
    XCTAssertTrue(["avx512", "avx2+fma", "scalar"].contains(HNSWIndex.kernel))
  }
}
