#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The world of one process: rank 0 of 1. Every collective is the identity (all-reduce
/// leaves the buffer, all-gather returns `[values]`, all-to-all returns `send`), so code
/// written for N ranks runs unchanged — and without MPI — on one.
///
///     let comm = SingleProcessCommunicator();  try comm.allReduce(&grads)   // no-op
public final class SingleProcessCommunicator: Communicator {
  public let stats = CommunicationStats()
  public init() {}
  public var rank: Int { 0 }
  public var worldSize: Int { 1 }

  public func allReduce<T: CommunicatorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, _ op: ReduceOperation) throws {}
  public func allGatherV<T: CommunicatorScalar>(_ values: [T]) throws -> [[T]] { [values] }
  public func allToAllV<T: CommunicatorScalar>(_ send: [[T]]) throws -> [[T]] {
    guard send.count == 1 else { throw DistributedError("allToAllV: \(send.count) send blocks for a world of 1 rank") }
    return send
  }
  public func broadcast<T: CommunicatorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
    guard root == 0 else { throw DistributedError("broadcast: root \(root) is not a rank of a world of 1") }
  }
  public func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ op: ReduceOperation) throws -> PendingCollective {
    CompletedCollective()
  }
  public func barrier() throws {}
  public func abort(_ message: String, code: Int32) -> Never {
    fputs("error: \(message)\n", stderr)
    exit(code)
  }
}
