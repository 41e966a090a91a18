import CHNSW
import TMLANN
import TMLTensor
import TwHIN
import XCTest

/// The 4-bit PQ fast scan: its SIMD kernels against the definition, and the index against
/// the exact scan.
final class PQFastScanTests: XCTestCase {
  func testTheScanKernelSumsTheTableEntriesOfEachRowsCodes() {
    var rng = RandomGenerator(seed: 11)
    let (blocks, s) = (3, 5)
    let rowCodes = (0..<(blocks * 32)).map { _ in (0..<s).map { _ in rng.int(below: 16) } }
    var codes = [UInt8](repeating: 0, count: blocks * s * 16)
    for (i, row) in rowCodes.enumerated() {
      for (j, c) in row.enumerated() { codes[((i / 32) * s + j) * 16 + (i % 16)] |= (i % 32) < 16 ? UInt8(c) : UInt8(c) << 4 }
    }
    let lut = (0..<(s * 16)).map { _ in UInt8(rng.int(below: 256)) }
    var sums = [UInt16](repeating: 0, count: blocks * 32)
    tml_pq4_scan(codes, blocks, s, lut, &sums)
    for (i, row) in rowCodes.enumerated() {
      XCTAssertEqual(Int(sums[i]), row.enumerated().map { Int(lut[$0.offset * 16 + $0.element]) }.reduce(0, +), "row \(i)")
    }
  }

  func testCollectFindsEveryRowAtOrAboveTheThresholdInOrder() {
    var rng = RandomGenerator(seed: 12)
    let sums = (0..<1003).map { _ in UInt16(rng.int(below: 60_000)) }
    var ids = [UInt32](repeating: 0, count: 2000), values = [UInt16](repeating: 0, count: 2000)
    for t: UInt16 in [0, 30_000, 59_000, 65_535] {
      let found = tml_pq4_collect(sums, sums.count, t, &ids, &values, ids.count)
      let expected = sums.indices.filter { sums[$0] >= t }
      XCTAssertEqual(found, expected.count)
      XCTAssertEqual(ids.prefix(found).map(Int.init), expected)
      XCTAssertEqual(Array(values.prefix(found)), expected.map { sums[$0] })
    }
    XCTAssertEqual(tml_pq4_collect(sums, sums.count, 0, &ids, &values, 10), 1003, "the count goes past the capacity")
  }

  func testRescoringEnoughRowsGivesTheExactTopTen() throws {
    var rng = RandomGenerator(seed: 13)
    let (n, d) = (3000, 32)
    let data = (0..<(n * d)).map { _ in rng.normal() }
    let index = try PQFastScanIndex(vectors: data, dimension: d, subspaces: 8, rerank: 300)
    let exact = try ExactInnerProductSearch(vectors: data, dimension: d)
    var hits = 0
    for _ in 0..<20 {
      let q = (0..<d).map { _ in rng.normal() }
      let a = try index.search(query: q, k: 10), e = try exact.search(query: q, k: 10)
      hits += Set(a.map(\.id)).intersection(e.map(\.id)).count
      for x in a {
        var dot: Float = 0
        for t in 0..<d { dot += q[t] * data[x.id * d + t] }
        XCTAssertEqual(x.score, dot, accuracy: 1e-3, "scores are exact")
      }
    }
    XCTAssertGreaterThanOrEqual(Double(hits) / 200, 0.95, "recall@10 with 10 % of the rows rescored")
    index.rerank = n
    let q = (0..<d).map { _ in rng.normal() }
    XCTAssertEqual(try index.search(query: q, k: 10).map(\.id), try exact.search(query: q, k: 10).map(\.id), "rescoring every row is the exact scan")
  }

  func testRowsWithEqualEstimatesStillFillTheAnswer() throws {
    let d = 8
    var data = [Float]()
    for _ in 0..<500 { data += [1, 2, 3, 4, 5, 6, 7, 8] }
    let index = try PQFastScanIndex(vectors: data, dimension: d, subspaces: 4, rerank: 20)
    let top = try index.search(query: [1, 0, 0, 0, 0, 0, 0, 1], k: 10)
    XCTAssertEqual(top.count, 10)
    XCTAssertEqual(top.map(\.score), [Float](repeating: 9, count: 10))
  }

  func testBadShapesAreErrors() {
    XCTAssertThrowsError(try PQFastScanIndex(vectors: [1, 2, 3], dimension: 2))
    XCTAssertThrowsError(try PQFastScanIndex(vectors: [Float](repeating: 1, count: 12), dimension: 6, subspaces: 4)) { e in
      XCTAssertTrue("\(e)".contains("subspaces must divide"), "\(e)")
    }
  }
}
