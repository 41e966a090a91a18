import Foundation
import XCTest
@testable import TMLTensor

/// RandomGenerator statistics and reproducibility, the buffer pool, and parallelFor.
final class RandomAndPoolTests: XCTestCase {
  // MARK: RandomGenerator

  func testSameSeedAndStreamGiveTheSameSequence() {
    var a = RandomGenerator(seed: 42, stream: 3), b = RandomGenerator(seed: 42, stream: 3)
    XCTAssertEqual((0..<100).map { _ in a.next() }, (0..<100).map { _ in b.next() })
  }

  func testDifferentStreamsOfOneSeedDiffer() {
    var a = RandomGenerator(seed: 42, stream: 0), b = RandomGenerator(seed: 42, stream: 1)
    let sa = (0..<16).map { _ in a.next() }, sb = (0..<16).map { _ in b.next() }
    XCTAssertNotEqual(sa, sb)
    XCTAssertEqual(Set(sa).intersection(sb).count, 0)
  }

  func testDifferentSeedsDiffer() {
    var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 2)
    XCTAssertNotEqual((0..<8).map { _ in a.next() }, (0..<8).map { _ in b.next() })
  }

  func testUniformIsInTheUnitIntervalWithMeanOneHalf() {
    var rng = RandomGenerator(seed: 5)
    var sum: Double = 0
    for _ in 0..<100_000 {
      let u = rng.uniform()
      XCTAssertTrue(u >= 0 && u < 1, "uniform() returned \(u)")
      sum += Double(u)
    }
    XCTAssertEqual(sum / 100_000, 0.5, accuracy: 0.01)
  }

  func testUniformInARangeStaysInTheRange() {
    var rng = RandomGenerator(seed: 6)
    for _ in 0..<10_000 {
      let u = rng.uniform(-3, 2)
      XCTAssertTrue(u >= -3 && u < 2, "\(u)")
    }
  }

  func testNormalHasMeanZeroAndStandardDeviationOne() {
    var rng = RandomGenerator(seed: 8)
    let n = 100_000
    var sum: Double = 0, sumSq: Double = 0
    for _ in 0..<n {
      let v = Double(rng.normal())
      XCTAssertTrue(v.isFinite)
      sum += v
      sumSq += v * v
    }
    let mean = sum / Double(n)
    let std = (sumSq / Double(n) - mean * mean).squareRoot()
    XCTAssertEqual(mean, 0, accuracy: 0.02)
    XCTAssertEqual(std, 1, accuracy: 0.02)
  }

  func testTensorNormalAndUniformHonourTheirParameters() {
    var rng = RandomGenerator(seed: 9)
    let n = Tensor.normal([50_000], mean: 3, std: 0.5, using: &rng)
    XCTAssertEqual(n.mean().item!, 3, accuracy: 0.02)
    let u = Tensor.uniform([1000], low: 2, high: 4, using: &rng).scalars
    XCTAssertTrue(u.allSatisfy { $0 >= 2 && $0 < 4 })
  }

  func testBernoulliFrequencyMatchesP() {
    var rng = RandomGenerator(seed: 10)
    let hits = (0..<50_000).filter { _ in rng.bernoulli(0.3) }.count
    XCTAssertEqual(Double(hits) / 50_000, 0.3, accuracy: 0.01)
  }

  func testIntBelowStaysInRangeAndCoversIt() {
    var rng = RandomGenerator(seed: 12)
    var seen = Set<Int>()
    for _ in 0..<2000 {
      let v = rng.int(below: 7)
      XCTAssertTrue((0..<7).contains(v))
      seen.insert(v)
    }
    XCTAssertEqual(seen, Set(0..<7))
  }

  func testPermutationIsAPermutation() {
    var rng = RandomGenerator(seed: 13)
    for n in [0, 1, 2, 17, 1000] {
      let p = rng.permutation(n)
      XCTAssertEqual(p.sorted(), Array(0..<n), "n = \(n)")
    }
    XCTAssertNotEqual(rng.permutation(50), Array(0..<50), "a shuffle of 50 is (almost surely) not the identity")
  }

  func testStateSaveAndRestoreContinuesIdentically() throws {
    var rng = RandomGenerator(seed: 99, stream: 4)
    for _ in 0..<37 { _ = rng.next() }
    let saved = rng.state
    let expected = (0..<50).map { _ in rng.next() }
    var restored = try RandomGenerator(state: saved)
    XCTAssertEqual((0..<50).map { _ in restored.next() }, expected)
  }

  func testRestoringAnInvalidStateThrows() {
    assertThrowsTensorError(["4 words"]) { try RandomGenerator(state: [1, 2, 3]) }
    assertThrowsTensorError(["not all zero"]) { try RandomGenerator(state: [0, 0, 0, 0]) }
  }

  // MARK: BufferPool

  func testSizeClassIsAtLeastTheRequestAndAtMostTwelveAndAHalfPercentMore() throws {
    var sizes = Array(0...20_000)
    for shift in 14..<28 { let p = 1 << shift; sizes += [p - 1, p, p + 1, p + p / 3, p + p / 2 + 7] }
    var bad: [String] = []
    for n in sizes {
      let c = BufferPool.sizeClass(n)
      if c < n || Double(c) > 1.125 * Double(n) + 16 { bad.append("sizeClass(\(n)) = \(c)") }
    }
    XCTAssertTrue(bad.isEmpty, "\(bad.count) sizes out of bounds, e.g. \(bad.prefix(5))")
  }

  func testSizeClassIsMonotoneAndIdempotent() {
    var previous = 0
    for n in stride(from: 0, through: 100_000, by: 7) {
      let c = BufferPool.sizeClass(n)
      XCTAssertGreaterThanOrEqual(c, previous, "n = \(n)")
      XCTAssertEqual(BufferPool.sizeClass(c), c, "sizeClass(\(c)) should be \(c)")
      previous = c
    }
  }

  func testSmallSizeClassesAreMultiplesOfSixteen() {
    XCTAssertEqual(BufferPool.sizeClass(0), 16)
    XCTAssertEqual(BufferPool.sizeClass(1), 16)
    XCTAssertEqual(BufferPool.sizeClass(16), 16)
    XCTAssertEqual(BufferPool.sizeClass(17), 32)
    XCTAssertEqual(BufferPool.sizeClass(4096), 4096)
  }

  func testADroppedTensorsBufferIsReusedForTheNextTensorOfTheSameSize() {
    // An unusual size class (not used by other tests) so the cache holds exactly what we drop.
    let shape = [7, 1009]
    do { _ = Tensor.zeros(shape) }
    let pool = BufferPool.shared
    let (fresh, reused) = (pool.freshAllocations, pool.reusedAllocations)
    let t = Tensor.zeros(shape)
    XCTAssertEqual(t.count, 7063)
    XCTAssertEqual(pool.reusedAllocations, reused + 1)
    XCTAssertEqual(pool.freshAllocations, fresh)
  }

  func testEmptyCacheForcesAFreshAllocation() {
    let shape = [3, 3001]
    do { _ = Tensor.zeros(shape) }
    BufferPool.shared.emptyCache()
    let fresh = BufferPool.shared.freshAllocations
    _ = Tensor.zeros(shape)
    XCTAssertEqual(BufferPool.shared.freshAllocations, fresh + 1)
  }

  func testPooledBuffersAre64ByteAligned() {
    for n in [1, 5, 100, 4097, 70_000] {
      let t = Tensor.zeros([n])
      let address = Int(bitPattern: t.withUnsafeBufferPointer { $0.baseAddress })
      XCTAssertEqual(address % 64, 0, "n = \(n)")
    }
  }

  // MARK: parallelFor

  func testParallelForCoversEveryIndexExactlyOnce() {
    for count in [0, 1, 1000, 100_003] {
      for minimum in [1, 7, 1000] {
        let hits = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(count, 1))
        defer { hits.deallocate() }
        hits.initialize(repeating: 0, count: Swift.max(count, 1))
        let lock = NSLock()
        var calls = 0
        parallelFor(count, minimumPerThread: minimum) { r in
          lock.lock(); calls += 1; lock.unlock()
          for i in r { hits[i] += 1 }  // chunks are disjoint, so no two threads touch one index
        }
        let counts = UnsafeBufferPointer(start: hits, count: count)
        XCTAssertTrue(counts.allSatisfy { $0 == 1 }, "count \(count), minimumPerThread \(minimum)")
        if count == 0 { XCTAssertEqual(calls, 0) } else { XCTAssertLessThanOrEqual(calls, Swift.max(Parallelism.threadCount, 1)) }
      }
    }
  }

  func testParallelForRunsInlineBelowTwiceTheMinimum() {
    var ranges: [Range<Int>] = []
    parallelFor(100, minimumPerThread: 64) { ranges.append($0) }
    XCTAssertEqual(ranges, [0..<100])
  }
}
