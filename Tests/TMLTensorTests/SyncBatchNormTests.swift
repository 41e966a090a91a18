import Foundation
import XCTest
@testable import TMLTensor

/// SyncBatchNorm: two replicas (threads) each holding half the rows, with a cross-replica
/// sum, compute exactly what one batch norm over all rows does — outputs, input gradients,
/// the statistics and their row count; the weight and bias gradients of the replicas add
/// up to the full batch's.
final class SyncBatchNormTests: XCTestCase {
  /// Sums arrays from `parties` threads: each call blocks until all have contributed.
  final class ThreadSum: @unchecked Sendable {
    let parties: Int
    let lock = NSCondition()
    var pending: [Double] = []
    var arrived = 0, generation = 0
    var result: [Double] = []
    init(parties: Int) { self.parties = parties }
    func sum(_ v: inout [Double]) {
      lock.lock()
      defer { lock.unlock() }
      let gen = generation
      if arrived == 0 { pending = v } else { for i in v.indices { pending[i] += v[i] } }
      arrived += 1
      if arrived == parties {
        result = pending
        arrived = 0
        generation += 1
        lock.broadcast()
      } else {
        while generation == gen { lock.wait() }
      }
      v = result
    }
  }

  func rows(_ t: Tensor, _ range: Range<Int>) -> [Float] {
    let c = t.shape[1]
    return Array(t.scalars[range.lowerBound * c..<range.upperBound * c])
  }

  func testTwoReplicasOfHalfTheRowsEqualOneBatchOfAllRows() throws {
    let (b, c) = (10, 3)
    var rng = SystemRandomNumberGenerator()
    let x = (0..<b * c).map { _ in Float.random(in: -2...3, using: &rng) }
    let upstream = (0..<b * c).map { _ in Float.random(in: -1...1, using: &rng) }
    let w0: [Float] = [1.5, -0.5, 2], b0: [Float] = [0.1, 0.2, -0.3]

    // One process, all rows.
    let xf = try Tensor(shape: [b, c], scalars: x).requiringGrad()
    let wf = Tensor(w0).requiringGrad(), bf = Tensor(b0).requiringGrad()
    let (yf, sf) = try Tensor.batchNorm(xf, weight: wf, bias: bf, eps: 1e-5, training: true, runningMean: nil, runningVar: nil)
    try yf.backward(gradient: try Tensor(shape: [b, c], scalars: upstream))

    // Two replicas: rows 0..<4 and 4..<10 (unequal halves), summing through ThreadSum.
    let split = [0..<4, 4..<b]
    let bus = ThreadSum(parties: 2)
    final class Results: @unchecked Sendable {
      var outputs = [[Float]](repeating: [], count: 2), dxs = [[Float]](repeating: [], count: 2)
      var dws = [[Float]](repeating: [], count: 2), dbs = [[Float]](repeating: [], count: 2)
      var stats = [Tensor.BatchStatistics?](repeating: nil, count: 2)
      var errors: [Error] = []
    }
    let res = Results()
    let lock = NSLock()
    let group = DispatchGroup()
    for r in 0..<2 {
      group.enter()
      Thread {
        defer { group.leave() }
        do {
          let part = split[r]
          let xr = try Tensor(shape: [part.count, c], scalars: Array(x[part.lowerBound * c..<part.upperBound * c])).requiringGrad()
          let wr = Tensor(w0).requiringGrad(), br = Tensor(b0).requiringGrad()
          let (y, s) = try Tensor.batchNorm(xr, weight: wr, bias: br, eps: 1e-5, training: true, runningMean: nil, runningVar: nil,
                                            crossReplicaSum: { bus.sum(&$0) })
          try y.backward(gradient: try Tensor(shape: [part.count, c], scalars: Array(upstream[part.lowerBound * c..<part.upperBound * c])))
          lock.lock()
          res.outputs[r] = y.scalars; res.dxs[r] = xr.grad!.scalars; res.dws[r] = wr.grad!.scalars; res.dbs[r] = br.grad!.scalars
          res.stats[r] = s
          lock.unlock()
        } catch {
          lock.lock(); res.errors.append(error); lock.unlock()
        }
      }.start()
    }
    XCTAssertEqual(group.wait(timeout: .now() + 30), .success, "the replicas did not finish (a reduction mismatch would hang)")
    XCTAssertTrue(res.errors.isEmpty, "\(res.errors)")
    let (outputs, dxs, dws, dbs, stats) = (res.outputs, res.dxs, res.dws, res.dbs, res.stats)
    for r in 0..<2 {
      XCTAssertEqual(outputs[r], rows(yf, split[r]), accuracy: 1e-5)
      XCTAssertEqual(dxs[r], rows(xf.grad!, split[r]), accuracy: 1e-5)
      XCTAssertEqual(stats[r]?.count, b)
      XCTAssertEqual(stats[r]?.mean ?? [], sf!.mean, accuracy: 1e-6)
      XCTAssertEqual(stats[r]?.variance ?? [], sf!.variance, accuracy: 1e-5)
    }
    XCTAssertEqual(zip(dws[0], dws[1]).map { $0 + $1 }, wf.grad!.scalars, accuracy: 1e-5)
    XCTAssertEqual(zip(dbs[0], dbs[1]).map { $0 + $1 }, bf.grad!.scalars, accuracy: 1e-5)
    // Without the sum, each replica normalises with its own rows: different outputs.
    let (alone, _) = try Tensor.batchNorm(try Tensor(shape: [4, c], scalars: Array(x[0..<4 * c])), weight: nil, bias: nil, eps: 1e-5,
                                          training: true, runningMean: nil, runningVar: nil)
    XCTAssertGreaterThan(zip(alone.scalars, outputs[0]).map { abs($0 - $1) }.max() ?? 0, 1e-3)
  }

  func testOneRowOverAllReplicasIsAnError() {
    let x = try! Tensor(shape: [1, 3], scalars: [1, 2, 3])
    XCTAssertThrowsError(try Tensor.batchNorm(x, weight: nil, bias: nil, eps: 1e-5, training: true, runningMean: nil, runningVar: nil,
                                              crossReplicaSum: { _ in })) { XCTAssertTrue("\($0)".contains("1 rows over all replicas"), "\($0)") }
  }
}

private func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(a.count, b.count, file: file, line: line)
  for (i, (x, y)) in zip(a, b).enumerated() where abs(x - y) > accuracy * max(1, abs(y)) {
    XCTFail("element \(i): \(x) vs \(y)", file: file, line: line)
    return
  }
}
