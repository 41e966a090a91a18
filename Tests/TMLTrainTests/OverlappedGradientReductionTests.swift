import Foundation
import XCTest
import TMLDistributed
import TMLNN
import TMLTensor
@testable import TMLTrain

/// The gradient all-reduce started during backward: buckets start in order while backward
/// still runs, and the result is the sum `sumGradients` makes after it. Two real ranks are
/// checked end to end by DataParallelRecapTests (mpirun), where this path is the default.
final class OverlappedGradientReductionTests: XCTestCase {
  /// A world of 2 whose other rank holds the same gradients: every sum doubles the buffer,
  /// when the request is waited for (as if the reduction were still in flight until then).
  final class MirrorCommunicator: Communicator {
    let stats = CommunicationStats()
    var rank: Int { 0 }
    var worldSize: Int { 2 }
    var leavesSeen = 0
    /// Per started reduction: its size and how many leaves were ready when it started.
    var starts: [(count: Int, leavesReady: Int)] = []
    final class Doubling: PendingCollective {
      let buffer: UnsafeMutableBufferPointer<Float>
      var done = false
      init(_ b: UnsafeMutableBufferPointer<Float>) { buffer = b }
      func poll() throws -> Bool { done }
      func wait() throws {
        guard !done else { return }
        for i in buffer.indices { buffer[i] *= 2 }
        done = true
      }
    }
    func allReduce<T: CommunicatorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, _ op: ReduceOperation) throws {
      guard let b = buffer as? UnsafeMutableBufferPointer<Float> else { throw DistributedError("floats only") }
      for i in b.indices { b[i] *= 2 }
    }
    func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ op: ReduceOperation) throws -> PendingCollective {
      starts.append((buffer.count, leavesSeen))
      return Doubling(buffer)
    }
    func allGatherV<T: CommunicatorScalar>(_ values: [T]) throws -> [[T]] { [values, values] }
    func allToAllV<T: CommunicatorScalar>(_ send: [[T]]) throws -> [[T]] { send }
    func broadcast<T: CommunicatorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {}
    func barrier() throws {}
    func abort(_ message: String, code: Int32) -> Never { fatalError(message) }
  }

  final class Net: Module {
    var isTraining = true
    let a: Linear, b: Linear, c: Linear       // 32 + 8, 64 + 8, 8 + 1 floats
    init() {
      var rng = RandomGenerator(seed: 5)
      a = Linear(4, 8, rng: &rng)
      b = Linear(8, 8, rng: &rng)
      c = Linear(8, 1, rng: &rng)
    }
    let unused = Parameter(Tensor.ones([3]))
    var parameters: [(String, Parameter)] { [("unused", unused)] }
    var children: [(String, any Module)] { [("a", a), ("b", b), ("c", c)] }
    func loss(_ x: Tensor) throws -> Tensor { try c(try b(try a(x).relu()).relu()).sum() }
  }

  func testBucketsStartDuringBackwardInOrderAndSumLikeSumGradients() throws {
    let x = try Tensor(shape: [5, 4], scalars: (0..<20).map { Float($0) * 0.1 - 1 })
    let net = Net(), reference = Net()
    try reference.loss(x).backward()
    let expected = Dictionary(uniqueKeysWithValues: reference.namedParameters().map { ($0.0, $0.1.grad?.scalars) })

    let comm = MirrorCommunicator()
    let dp = DataParallel(communicator: comm, module: net, bucketElements: 40)
    let reduction = dp.startOverlappedReduction()
    // Reverse parameter order, a weight of ≥ 40 floats alone: [c.bias, c.weight, b.bias] (17),
    // [b.weight] (64, alone), [a.bias, a.weight] (40), [unused].
    XCTAssertEqual(reduction.buckets.map { $0.parameters.count }, [3, 1, 2, 1])
    XCTAssertEqual(reduction.buckets.map(\.alone), [false, true, false, false])
    try net.loss(x).backward { leaf in
      comm.leavesSeen += 1
      try reduction.leafReady(leaf)
    }
    let leaves = comm.leavesSeen
    XCTAssertEqual(leaves, 6, "each Linear's weight and bias")
    XCTAssertGreaterThanOrEqual(comm.starts.count, 3, "buckets started during backward")
    XCTAssertLessThan(comm.starts.first?.leavesReady ?? leaves, leaves, "the first bucket started before backward ended")
    try reduction.finish()
    XCTAssertEqual(comm.starts.count, 4, "the bucket of the unused parameter starts at finish, with zeros")
    XCTAssertEqual(comm.starts.last?.count, 3)
    for (name, p) in net.namedParameters() {
      guard let want = expected[name] ?? nil else {
        XCTAssertNil(p.grad, "\(name) had no gradient and keeps none")
        continue
      }
      XCTAssertEqual(p.grad?.scalars, want.map { $0 * 2 }, "\(name): the sum over the two ranks")
    }
  }

  func testOverlapIsOnAcrossMachinesOffOnOneAndTheVariableDecides() {
    let oneMachine = ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_LOCAL_SIZE": "2"]
    let twoMachines = ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_LOCAL_SIZE": "1"]
    XCTAssertFalse(DataParallel.overlapByDefault(oneMachine))
    XCTAssertTrue(DataParallel.overlapByDefault(twoMachines))
    XCTAssertTrue(DataParallel.overlapByDefault(oneMachine.merging(["SWIFTTML_OVERLAP_ALLREDUCE": "1"]) { $1 }))
    XCTAssertFalse(DataParallel.overlapByDefault(twoMachines.merging(["SWIFTTML_OVERLAP_ALLREDUCE": "0"]) { $1 }))
    XCTAssertFalse(DataParallel.overlapByDefault([:]), "one process")
  }
}
