import CMPI
import Foundation

/// The ranks of an `mpirun` job (MPI_COMM_WORLD) through Open MPI's C API. Initialised
/// once per process with MPI_THREAD_FUNNELED (only the calling thread talks to MPI; the
/// input pipeline's threads never do). Errors from MPI end the job (MPI's default error
/// handler), so a collective never returns half done.
///
///     // under `mpirun -np 2 tml …`
///     let comm = try MPICommunicator.world()
public final class MPICommunicator: Communicator {
  public let rank: Int
  public let worldSize: Int
  public let stats = CommunicationStats()
  private let comm = cmpi_comm_world()

  nonisolated(unsafe) private static var shared: MPICommunicator?

  /// MPI_COMM_WORLD if this process has initialised MPI, else nil.
  public static var started: MPICommunicator? { shared }

  /// MPI_COMM_WORLD, initialising MPI on the first call.
  public static func world() throws -> MPICommunicator {
    if let shared { return shared }
    var provided: Int32 = 0
    let rc = MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided)
    guard rc == cmpi_success() else { throw DistributedError("MPI_Init_thread failed with code \(rc); is this process started by mpirun?") }
    var r: Int32 = 0, n: Int32 = 0
    MPI_Comm_rank(cmpi_comm_world(), &r)
    MPI_Comm_size(cmpi_comm_world(), &n)
    let c = MPICommunicator(rank: Int(r), worldSize: Int(n))
    shared = c
    return c
  }

  private init(rank: Int, worldSize: Int) {
    self.rank = rank
    self.worldSize = worldSize
  }

  /// Ends MPI (MPI_Finalize) if this process started it; call once before exiting.
  public static func finalizeIfStarted() {
    guard shared != nil else { return }
    var done: Int32 = 0
    MPI_Finalized(&done)
    if done == 0 { MPI_Finalize() }
  }

  static func datatype(_ kind: ScalarKind) -> MPI_Datatype {
    switch kind {
    case .float32: cmpi_float()
    case .float64: cmpi_double()
    case .int64: cmpi_int64()
    case .uint8: cmpi_uint8()
    }
  }

  static func count(_ n: Int, _ what: String) throws -> Int32 {
    guard let c = Int32(exactly: n) else { throw DistributedError("\(what): \(n) elements exceed MPI's count limit (2³¹−1); split the exchange") }
    return c
  }

  /// Runs one MPI call, adding its time (and `calls`, `bytes`) to `stats`.
  fileprivate func timed<R>(_ bytes: Int, calls: Int = 1, _ body: () throws -> R) rethrows -> R {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let r = try body()
    stats.record(bytes: bytes, seconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9, calls: calls)
    return r
  }

  fileprivate func check(_ rc: Int32, _ what: String) throws {
    guard rc == cmpi_success() else { throw DistributedError("\(what) failed on rank \(rank) with MPI error code \(rc)") }
  }

  public func allReduce<T: CommunicatorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, _ op: ReduceOperation) throws {
    guard buffer.count > 0 else { return }
    let n = try Self.count(buffer.count, "allReduce")
    let mop: MPI_Op = switch op { case .sum: cmpi_sum(); case .max: cmpi_max(); case .min: cmpi_min() }
    try timed(buffer.count * MemoryLayout<T>.stride) {
      try check(MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, n, Self.datatype(T.scalarKind), mop, comm), "MPI_Allreduce")
    }
  }

  public func allGatherV<T: CommunicatorScalar>(_ values: [T]) throws -> [[T]] {
    var counts = [Int64](repeating: 0, count: worldSize)
    counts[rank] = Int64(values.count)
    try allReduce(&counts, .sum)
    let recvCounts = try counts.map { try Self.count(Int($0), "allGatherV") }
    var displs = [Int32](repeating: 0, count: worldSize)
    for r in 1..<max(worldSize, 1) { displs[r] = displs[r - 1] &+ recvCounts[r - 1] }
    let total = try Self.count(counts.reduce(0, +).asInt, "allGatherV")
    var out = [T](unsafeUninitializedCapacity: Int(total)) { _, n in n = Int(total) }
    let t = Self.datatype(T.scalarKind)
    try timed(values.count * MemoryLayout<T>.stride) {
      try values.withUnsafeBufferPointer { send in
        try out.withUnsafeMutableBufferPointer { recv in
          try check(MPI_Allgatherv(send.baseAddress, Int32(values.count), t, recv.baseAddress, recvCounts, displs, t, comm), "MPI_Allgatherv")
        }
      }
    }
    return (0..<worldSize).map { Array(out[Int(displs[$0])..<Int(displs[$0] + recvCounts[$0])]) }
  }

  public func allToAllV<T: CommunicatorScalar>(_ send: [[T]]) throws -> [[T]] {
    guard send.count == worldSize else { throw DistributedError("allToAllV: \(send.count) send blocks for \(worldSize) ranks") }
    var sendCounts = try send.map { try Self.count($0.count, "allToAllV") }
    var recvCounts = [Int32](repeating: 0, count: worldSize)
    try check(MPI_Alltoall(&sendCounts, 1, MPICommunicator.int32Type,
                           &recvCounts, 1, MPICommunicator.int32Type, comm), "MPI_Alltoall")
    var sdispls = [Int32](repeating: 0, count: worldSize), rdispls = [Int32](repeating: 0, count: worldSize)
    for r in 1..<max(worldSize, 1) {
      sdispls[r] = sdispls[r - 1] &+ sendCounts[r - 1]
      rdispls[r] = rdispls[r - 1] &+ recvCounts[r - 1]
    }
    let flat = send.flatMap { $0 }
    let total = recvCounts.reduce(0) { $0 + Int($1) }
    var out = [T](unsafeUninitializedCapacity: total) { _, n in n = total }
    let t = Self.datatype(T.scalarKind)
    try timed(flat.count * MemoryLayout<T>.stride) {
      try flat.withUnsafeBufferPointer { s in
        try out.withUnsafeMutableBufferPointer { r in
          try check(MPI_Alltoallv(s.baseAddress, sendCounts, sdispls, t, r.baseAddress, recvCounts, rdispls, t, comm), "MPI_Alltoallv")
        }
      }
    }
    return (0..<worldSize).map { Array(out[Int(rdispls[$0])..<Int(rdispls[$0] + recvCounts[$0])]) }
  }

  public func broadcast<T: CommunicatorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
    guard (0..<worldSize).contains(root) else { throw DistributedError("broadcast: root \(root) is not a rank of 0..<\(worldSize)") }
    guard buffer.count > 0 else { return }
    let n = try Self.count(buffer.count, "broadcast")
    try timed(buffer.count * MemoryLayout<T>.stride) {
      try check(MPI_Bcast(buffer.baseAddress, n, Self.datatype(T.scalarKind), Int32(root), comm), "MPI_Bcast")
    }
  }

  public func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ op: ReduceOperation) throws -> PendingCollective {
    guard buffer.count > 0 else { return CompletedCollective() }
    let n = try Self.count(buffer.count, "startAllReduce")
    let mop: MPI_Op = switch op { case .sum: cmpi_sum(); case .max: cmpi_max(); case .min: cmpi_min() }
    let pending = Request(communicator: self, bytes: buffer.count * 4)
    try timed(0, calls: 0) {
      try check(MPI_Iallreduce(cmpi_in_place(), buffer.baseAddress, n, cmpi_float(), mop, comm, &pending.request), "MPI_Iallreduce")
    }
    return pending
  }

  /// An MPI request; the time spent in `poll` and `wait` counts as communication time.
  final class Request: PendingCollective {
    var request = cmpi_request_null()
    unowned let communicator: MPICommunicator
    let bytes: Int
    var done = false
    init(communicator: MPICommunicator, bytes: Int) {
      self.communicator = communicator
      self.bytes = bytes
    }
    func poll() throws -> Bool {
      if done { return true }
      var flag: Int32 = 0
      try communicator.timed(0, calls: 0) { try communicator.check(MPI_Test(&request, &flag, cmpi_status_ignore()), "MPI_Test") }
      if flag != 0 { finish() }
      return done
    }
    func wait() throws {
      if done { return }
      try communicator.timed(0, calls: 0) { try communicator.check(MPI_Wait(&request, cmpi_status_ignore()), "MPI_Wait") }
      finish()
    }
    private func finish() {
      done = true
      communicator.stats.record(bytes: bytes, seconds: 0)  // one call, its payload
    }
  }

  public func barrier() throws {
    try timed(0) { try check(MPI_Barrier(comm), "MPI_Barrier") }
  }

  /// Prints `error: rank R of N: message` — or `error: message` when the message already
  /// names the rank it came from (an error every rank agreed on, `agree(failed:)`).
  public func abort(_ message: String, code: Int32) -> Never {
    let named = message.hasPrefix("rank ") && message.dropFirst(5).drop(while: \.isNumber).hasPrefix(" of \(worldSize): ")
    fputs(named ? "error: \(message)\n" : "error: rank \(rank) of \(worldSize): \(message)\n", stderr)
    fflush(stderr)
    MPI_Abort(comm, code)
    exit(code)
  }

  static var int32Type: MPI_Datatype { cmpi_int32() }
}

extension Int64 {
  fileprivate var asInt: Int { Int(self) }
}
