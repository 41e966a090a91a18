/// Checks every collective of a communicator against its definition with rank-dependent
/// data (`tml distributed check`, run under `mpirun` to test an installation or a
/// hostfile). With N ranks, rank r contributes:
///
///     allReduce sum/max/min of [r+1, 2(r+1)]   = [N(N+1)/2, N(N+1)], [N, 2N], [1, 2]
///     allGatherV of r+1 copies of r            = [[0], [1,1], …]
///     allToAllV: q+1 copies of 100r+q to rank q = rank q receives [100p+q]·(q+1) from each p
///     broadcast from rank N−1 of [7, N−1]       = [7, N−1] everywhere
///
/// Returns one line per collective; throws naming the first one whose result is wrong.
///
///     let lines = try CollectiveCheck.run(try Distributed.communicator())
public enum CollectiveCheck {
  public static func run(_ comm: any Communicator) throws -> [String] {
    let n = comm.worldSize, r = comm.rank
    var lines: [String] = []
    func expect<T: Equatable>(_ name: String, _ got: T, _ want: T) throws {
      guard got == want else { throw DistributedError("\(name) on rank \(r) of \(n): got \(got), expected \(want)") }
      lines.append("\(name): ok")
    }
    var sum: [Double] = [Double(r + 1), Double(2 * (r + 1))]
    try comm.allReduce(&sum, .sum)
    try expect("allReduce sum", sum, [Double(n * (n + 1) / 2), Double(n * (n + 1))])
    var mx: [Float] = [Float(r + 1), Float(2 * (r + 1))]
    try comm.allReduce(&mx, .max)
    try expect("allReduce max", mx, [Float(n), Float(2 * n)])
    var mn: [Int64] = [Int64(r + 1), Int64(2 * (r + 1))]
    try comm.allReduce(&mn, .min)
    try expect("allReduce min", mn, [1, 2])
    let gathered = try comm.allGatherV([Int64](repeating: Int64(r), count: r + 1))
    try expect("allGatherV", gathered, (0..<n).map { [Int64](repeating: Int64($0), count: $0 + 1) })
    try expect("allGather", try comm.allGather([Float(r)]), (0..<n).map { Float($0) })
    let send = (0..<n).map { q in [Float](repeating: Float(100 * r + q), count: q + 1) }
    let received = try comm.allToAllV(send)
    try expect("allToAllV", received, (0..<n).map { p in [Float](repeating: Float(100 * p + r), count: r + 1) })
    let blocks = try comm.allToAll((0..<n).map { q in Int64(10 * r + q) })
    try expect("allToAll", blocks, (0..<n).map { p in Int64(10 * p + r) })
    var b: [Double] = r == n - 1 ? [7, Double(n - 1)] : [0, 0]
    try comm.broadcast(&b, root: n - 1)
    try expect("broadcast", b, [7, Double(n - 1)])
    try comm.barrier()
    lines.append("barrier: ok")
    try comm.agree(failed: nil)
    lines.append("agree: ok")
    return lines
  }
}
