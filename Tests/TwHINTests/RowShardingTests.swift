import XCTest
@testable import TwHIN

/// Round-robin sharding covers every row exactly once, and its maps invert each other.
final class RowShardingTests: XCTestCase {
  func testEveryRowLivesOnExactlyOneRankAndTheMapsInvert() {
    for n in 0...23 {
      for world in 1...5 {
        var seen = [Int](repeating: 0, count: n)
        for rank in 0..<world {
          let s = RowSharding(rank: rank, worldSize: world)
          for l in 0..<s.localCount(rows: n) {
            let g = s.globalRow(ofLocal: l)
            XCTAssertLessThan(g, n, "n \(n), world \(world), rank \(rank), local \(l)")
            guard g < n else { continue }
            seen[g] += 1
            XCTAssertEqual(s.owner(of: g), rank)
            XCTAssertEqual(s.localRow(of: g), l)
          }
        }
        XCTAssertEqual(seen, [Int](repeating: 1, count: n), "n \(n), world \(world)")
      }
    }
  }
}
