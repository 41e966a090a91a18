/// A group of `worldSize` processes (ranks `0..<worldSize`) that exchange arrays with
/// MPI's collective operations. Every rank must call the same collectives in the same
/// order with matching sizes, as in MPI.
///
///     allReduce(x, op)      x ← op over ranks of x                 (in place, every rank)
///     allGather(x)          [x₀, x₁, …] concatenated, equal counts
///     allGatherV(x)         [x₀, x₁, …] per rank, any counts
///     allToAllV(s)          rank r receives s_q[r] from every q; returns [s_0[r], s_1[r], …]
///     broadcast(x, root)    x ← x_root
///
/// `SingleProcessCommunicator` is the world of one (no MPI at run time); `MPICommunicator`
/// runs under `mpirun`. `Distributed.communicator()` picks one from the environment.
///
///     let comm = try Distributed.communicator()
///     var g: [Float] = grads;  try comm.allReduce(&g, .sum)
public protocol Communicator: AnyObject {
  var rank: Int { get }
  var worldSize: Int { get }
  /// Bytes and seconds spent in collectives so far.
  var stats: CommunicationStats { get }

  /// In-place reduction of `buffer` over all ranks.
  func allReduce<T: CommunicatorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, _ op: ReduceOperation) throws
  /// Every rank's `values` (each rank's own count) in rank order.
  func allGatherV<T: CommunicatorScalar>(_ values: [T]) throws -> [[T]]
  /// `send[q]` goes to rank q; the result's element q came from rank q.
  func allToAllV<T: CommunicatorScalar>(_ send: [[T]]) throws -> [[T]]
  /// Root's `buffer` copied into every rank's (same count on every rank).
  func broadcast<T: CommunicatorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws
  /// Starts an in-place sum (or max, min) of `buffer` over all ranks and returns at once
  /// (MPI_Iallreduce); the buffer must stay alive and untouched until the returned
  /// request's `wait()`. Every rank must start the same reductions in the same order.
  func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ op: ReduceOperation) throws -> PendingCollective
  func barrier() throws
  /// Prints `message` (prefixed with the rank) to standard error and ends the whole job
  /// (MPI_Abort under mpirun), so no rank waits forever on one that failed.
  func abort(_ message: String, code: Int32) -> Never
}

/// A collective started by `startAllReduce`: `poll()` lets MPI make progress (true once it
/// is done), `wait()` blocks until it is.
public protocol PendingCollective: AnyObject {
  func poll() throws -> Bool
  func wait() throws
}

/// A collective that finished when it was started (one rank, or nothing to send).
public final class CompletedCollective: PendingCollective {
  public init() {}
  public func poll() throws -> Bool { true }
  public func wait() throws {}
}

/// An element type the communicators exchange.
public protocol CommunicatorScalar: Sendable {
  static var scalarKind: ScalarKind { get }
}

public enum ScalarKind: Sendable { case float32, float64, int64, uint8 }

extension Float: CommunicatorScalar { public static var scalarKind: ScalarKind { .float32 } }
extension Double: CommunicatorScalar { public static var scalarKind: ScalarKind { .float64 } }
extension Int64: CommunicatorScalar { public static var scalarKind: ScalarKind { .int64 } }
extension UInt8: CommunicatorScalar { public static var scalarKind: ScalarKind { .uint8 } }

public enum ReduceOperation: Sendable { case sum, max, min }

/// What a rank spent in collectives: `bytes` counts the payload this rank hands to each
/// call (an all-reduce of n floats counts 4n; what the wire carries depends on MPI's
/// algorithm, about 2·(N−1)/N of that each way for a ring), `seconds` the wall time inside them.
public final class CommunicationStats: @unchecked Sendable {
  public private(set) var bytes = 0
  public private(set) var seconds = 0.0
  public private(set) var calls = 0
  public init() {}
  public func record(bytes: Int, seconds: Double, calls: Int = 1) {
    self.bytes += bytes
    self.seconds += seconds
    self.calls += calls
  }
  public func reset() { bytes = 0; seconds = 0; calls = 0 }
}

/// An error of a collective operation (a size that does not fit MPI's counts, a rank out
/// of range, an MPI error code).
public struct DistributedError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

extension Communicator {
  public var isDistributed: Bool { worldSize > 1 }

  public func allReduce<T: CommunicatorScalar>(_ values: inout [T], _ op: ReduceOperation = .sum) throws {
    try values.withUnsafeMutableBufferPointer { try allReduce($0, op) }
  }

  /// The sum (or max, min) of one value over all ranks.
  public func allReduce<T: CommunicatorScalar>(_ value: T, _ op: ReduceOperation = .sum) throws -> T {
    var v = [value]
    try allReduce(&v, op)
    return v[0]
  }

  public func broadcast<T: CommunicatorScalar>(_ values: inout [T], root: Int = 0) throws {
    try values.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
  }

  /// Every rank's `values` concatenated in rank order; all ranks must pass the same count.
  public func allGather<T: CommunicatorScalar>(_ values: [T]) throws -> [T] {
    let parts = try allGatherV(values)
    guard let n = parts.first?.count, parts.allSatisfy({ $0.count == n }) else {
      throw DistributedError("allGather: ranks passed different counts \(parts.map(\.count)); use allGatherV")
    }
    return parts.flatMap { $0 }
  }

  /// Equal-count all-to-all: `send` holds worldSize blocks of `send.count / worldSize`
  /// elements, block q for rank q; the result holds block `rank` of every rank, in rank order.
  public func allToAll<T: CommunicatorScalar>(_ send: [T]) throws -> [T] {
    guard send.count % worldSize == 0 else {
      throw DistributedError("allToAll: \(send.count) elements are not \(worldSize) equal blocks")
    }
    let n = send.count / worldSize
    return try allToAllV((0..<worldSize).map { Array(send[$0 * n..<($0 + 1) * n]) }).flatMap { $0 }
  }

  /// Throws on every rank when any rank passes `failed` (with that rank's message), so a
  /// check that fails on one rank stops all of them before the next collective instead of
  /// leaving the others waiting. `message` is sent only from failing ranks.
  public func agree(failed message: String?) throws {
    let bytes = Array((message ?? "").utf8)
    let all = try allGatherV(bytes)
    for (r, b) in all.enumerated() where !b.isEmpty {
      throw DistributedError("rank \(r) of \(worldSize): \(String(decoding: b, as: UTF8.self))")
    }
  }
}

/// Byte size of a scalar kind.
func byteSize(_ kind: ScalarKind) -> Int {
  switch kind {
  case .float32: 4
  case .float64, .int64: 8
  case .uint8: 1
  }
}
