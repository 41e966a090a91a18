import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A size-bucketed cache of 64-byte-aligned Float buffers, like PyTorch's caching
/// allocator: a freed tensor's buffer goes back to the bucket of its size class and the
/// next tensor of that class reuses it, so a shape-stable training step allocates
/// nothing new once warm.
///
/// Size classes: up to 4096 floats, multiples of 16 floats (64 bytes); above, the
/// next multiple of 1/8 of the enclosing power of two (≤ 12.5 % slack).
/// Buffers above `maxPooledBytes` bypass the cache; the cache holds at most
/// `cacheLimitBytes` and frees beyond that.
///
/// `acquireChecked` is the allocation that can fail: when the system refuses the memory
/// it empties the cache, retries once, then throws (`acquire` leaves the failure to the
/// Swift runtime, which stops the process).
public final class BufferPool: @unchecked Sendable {
  public static let shared = BufferPool()

  public var cacheLimitBytes: Int = 2 << 30
  public var maxPooledBytes: Int = 512 << 20
  private var free: [Int: [UnsafeMutableRawPointer]] = [:]
  private var cachedBytes = 0
  private let lock = NSLock()
  /// Number of fresh allocations (cache misses) since the process started.
  public private(set) var freshAllocations = 0
  /// Number of requests served from the cache.
  public private(set) var reusedAllocations = 0

  public init() {}

  /// The capacity (in floats) actually reserved for a request of `count` floats.
  public static func sizeClass(_ count: Int) -> Int {
    let n = max(count, 1)
    if n <= 4096 { return (n + 15) & ~15 }
    if n > 1 << 59 { return n }  // beyond any memory; no rounding that could overflow
    var p = 1
    while p < n { p <<= 1 }
    let step = p >> 4  // n > p/2, so the step is at most n/8
    return (n + step - 1) / step * step
  }

  func acquire(_ count: Int) -> (UnsafeMutablePointer<Float>, Int) {
    let capacity = BufferPool.sizeClass(count)
    if let p = cached(capacity) { return (p, capacity) }
    let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
    return (raw.bindMemory(to: Float.self, capacity: capacity), capacity)
  }

  /// Like `acquire`, but a count beyond what memory can address, or memory the system
  /// refuses (after emptying the cache and retrying), is an error instead of a trap.
  func acquireChecked(_ count: Int) throws -> (UnsafeMutablePointer<Float>, Int) {
    guard count >= 0, count <= BufferPool.maxFloats else {
      throw TensorError("cannot allocate \(count) floats: \(count < 0 ? "a negative count" : "more bytes than memory can address"); check the sizes in the config")
    }
    let capacity = BufferPool.sizeClass(count)
    if let p = cached(capacity) { return (p, capacity) }
    for attempt in 0..<2 {
      var raw: UnsafeMutableRawPointer? = nil
      if posix_memalign(&raw, 64, capacity * 4) == 0, let raw { return (raw.bindMemory(to: Float.self, capacity: capacity), capacity) }
      if attempt == 0 { emptyCache() }
    }
    throw TensorError("out of memory: cannot allocate \(count * 4) bytes (\(count) floats); this machine has \(ProcessInfo.processInfo.physicalMemory) bytes of physical memory. Lower the batch size or the layer/table sizes in the config")
  }

  /// Most floats one buffer may hold: its bytes, rounded to a size class, fit in Int.
  static let maxFloats = Int.max / 8

  /// A cached buffer of exactly `capacity` floats, if one is free (counts the request).
  private func cached(_ capacity: Int) -> UnsafeMutablePointer<Float>? {
    lock.lock()
    defer { lock.unlock() }
    if var list = free[capacity], let raw = list.popLast() {
      free[capacity] = list
      cachedBytes -= capacity * 4
      reusedAllocations += 1
      return raw.assumingMemoryBound(to: Float.self)
    }
    freshAllocations += 1
    return nil
  }

  func release(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
    let bytes = capacity * 4
    lock.lock()
    if bytes <= maxPooledBytes && cachedBytes + bytes <= cacheLimitBytes {
      free[capacity, default: []].append(UnsafeMutableRawPointer(pointer))
      cachedBytes += bytes
      lock.unlock()
      return
    }
    lock.unlock()
    UnsafeMutableRawPointer(pointer).deallocate()
  }

  /// Frees every cached buffer (e.g. between unrelated workloads).
  public func emptyCache() {
    lock.lock()
    let lists = free
    free = [:]
    cachedBytes = 0
    lock.unlock()
    for (_, list) in lists { for p in list { p.deallocate() } }
  }
}
