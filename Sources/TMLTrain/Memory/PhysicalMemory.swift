import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory a run may use: physical memory, `sysconf(_SC_PHYS_PAGES) × sysconf(_SC_PAGESIZE)`,
/// lowered to the cgroup limit when the process runs in a container that has one
/// (`/sys/fs/cgroup/memory.max`, or cgroup v1 `memory.limit_in_bytes`).
///
/// Total, not currently free (`MemAvailable`) memory: a config that cannot fit in the whole
/// machine is impossible, whereas free memory changes from one minute to the next.
public enum PhysicalMemory {
  public static var bytes: Int {
    let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
    let (physical, overflow) = Int(max(pages, 0)).multipliedReportingOverflow(by: Int(max(pageSize, 0)))
    var total = overflow || physical <= 0 ? Int(clamping: ProcessInfo.processInfo.physicalMemory) : physical
    for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
      guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0 else { continue }
      total = min(total, limit)
    }
    return total
  }
}
