#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the time of a forward/backward pass goes, for `tml bench recap --profile`: seconds
/// and calls per op kind ("fwd linear", "bwd layer_norm", …) and per GEMM shape, with the
/// GEMM's floating-point operations (2·m·n·k) for GFLOP/s. Off by default; one branch per
/// op when off. Single-threaded use only (the profiled pass runs on one caller thread; our
/// kernels' worker threads never call it).
///
/// Forward ops are timed lap by lap: each op's entry (`Tensor.record`, reached with or
/// without autograd) closes the lap that began at the previous op's, so the time of an op
/// is the time since the previous one (code between ops is charged to the next op).
/// Callers start a pass with `lap(nil)` and end it with `lap(name)` for what remains.
/// Backward ops are timed around each node's backward closure.
public enum OpProfiler {
  /// Time, calls and GEMM floating-point operations of one key.
  public struct Entry: Sendable {
    public var seconds = 0.0
    public var calls = 0
    public var flops = 0.0
  }

  nonisolated(unsafe) public static var isEnabled = false
  nonisolated(unsafe) public private(set) static var entries: [String: Entry] = [:]
  nonisolated(unsafe) private static var lapStart = 0.0

  /// Seconds on a monotonic clock.
  @inline(__always)
  public static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }

  /// Forgets every entry.
  public static func reset() { entries = [:] }

  /// While true (during `backward()`), forward laps are not taken: ops called by backward
  /// closures are part of the "bwd …" entry around them.
  nonisolated(unsafe) static var isInBackward = false

  /// Charges the time since the previous lap to `key` (nil: starts a new pass, charges nothing).
  public static func lap(_ key: String?) {
    guard !isInBackward else { return }
    let t = now()
    if let key { add(key, seconds: t - lapStart) }
    lapStart = t
  }

  /// Adds one call of `seconds` (and `flops`) to `key`.
  public static func add(_ key: String, seconds: Double, flops: Double = 0) {
    var e = entries[key] ?? Entry()
    e.seconds += seconds
    e.calls += 1
    e.flops += flops
    entries[key] = e
  }

  /// Times `body` as one call of `key` (GEMMs: "gemm …" entries overlap the op entries
  /// that contain them).
  @inline(__always)
  /// The key and flops are evaluated only while profiling.
  public static func measure<T>(_ key: @autoclosure () -> String, flops: @autoclosure () -> Double = 0,
                                _ body: () throws -> T) rethrows -> T {
    guard isEnabled else { return try body() }
    let t0 = now()
    let r = try body()
    add(key(), seconds: now() - t0, flops: flops())
    return r
  }
}
