import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock timing and memory readings for benchmarks.
public enum Stopwatch {
  /// Seconds on a monotonic clock.
  public static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }

  /// Median seconds per call of `body` over `repeats` timed runs after `warmup` untimed ones.
  public static func median(warmup: Int = 2, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmup { try body() }
    var samples: [Double] = []
    for _ in 0..<max(repeats, 1) {
      let t0 = now()
      try body()
      samples.append(now() - t0)
    }
    samples.sort()
    return samples[samples.count / 2]
  }

  /// Peak resident set size of this process so far, in bytes (getrusage).
  public static func peakRSSBytes() -> Int {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    #if canImport(Darwin)
    return Int(usage.ru_maxrss)
    #else
    return Int(usage.ru_maxrss) * 1024
    #endif
  }

  /// Current resident set size in bytes (Linux /proc/self/statm; peak elsewhere).
  public static func currentRSSBytes() -> Int {
    if let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
      let fields = text.split(separator: " ")
      if fields.count > 1, let pages = Int(fields[1]) { return pages * Int(sysconf(Int32(_SC_PAGESIZE))) }
    }
    return peakRSSBytes()
  }
}
