import Foundation

/// The memory a run will need, as parts tied to the config keys that size them, checked
/// against the machine before anything large is allocated: an impossible layer width,
/// batch size or table is refused with the key, the bytes needed and the bytes available,
/// instead of stopping the process in the allocator.
///
/// Sizes are multiplied with saturation (a product beyond `Int.max` stays `Int.max`), so
/// no size in a config can overflow the estimate itself.
///
///     var m = MemoryEstimate()
///     m.add(keys: [("model.tables[user].num_embeddings", 10_000_000)], "table user: 10M × 200 floats",
///           elements: [10_000_000, 200], bytesPerElement: 4, copies: 2)
///     try m.check(availableBytes: PhysicalMemory.bytes)
public struct MemoryEstimate: Sendable {
  /// One part: what it is, the config keys (and their values) that size it, its bytes.
  public struct Part: Sendable {
    public var keys: [(key: String, value: Int)]
    public var what: String
    public var bytes: Int
  }

  public private(set) var parts: [Part] = []

  public init() {}

  /// Adds `copies` × (product of `elements`) × `bytesPerElement` bytes.
  public mutating func add(keys: [(key: String, value: Int)], _ what: String, elements: [Int], bytesPerElement: Int = 4, copies: Int = 1) {
    parts.append(Part(keys: keys, what: what, bytes: MemoryEstimate.product(elements + [bytesPerElement, copies])))
  }

  /// Adds every part of `other`.
  public mutating func add(_ other: MemoryEstimate) { parts += other.parts }

  /// The sum of all parts (saturating).
  public var totalBytes: Int { parts.reduce(0) { MemoryEstimate.sum($0, $1.bytes) } }

  /// The config key that sizes the most memory, its value and those bytes (nil when there
  /// are no parts). A part sized by several keys (batch × width) counts for the key with
  /// the largest value: the factor that is out of proportion.
  public var dominantKey: (key: String, value: Int, bytes: Int)? {
    var order: [String] = [], byKey: [String: (value: Int, bytes: Int)] = [:]
    for part in parts {
      guard let (key, value) = part.keys.max(by: { $0.value < $1.value }) else { continue }
      if byKey[key] == nil { order.append(key) }
      byKey[key] = (value, MemoryEstimate.sum(byKey[key]?.bytes ?? 0, part.bytes))
    }
    var best: (key: String, value: Int, bytes: Int)? = nil
    for key in order {
      guard let k = byKey[key], k.bytes > (best?.bytes ?? -1) else { continue }
      best = (key, k.value, k.bytes)
    }
    return best
  }

  /// Throws when the total exceeds `availableBytes`, naming the config key that sizes the
  /// most memory, the largest part it sizes, the bytes needed and the bytes available.
  public func check(availableBytes: Int = PhysicalMemory.bytes) throws {
    let total = totalBytes
    guard total > availableBytes, let blamed = dominantKey,
          let top = parts.filter({ $0.keys.max { $0.value < $1.value }?.key == blamed.key }).max(by: { $0.bytes < $1.bytes })
    else { return }
    let others = top.keys.filter { $0.key != blamed.key }.map { "\($0.key) = \($0.value)" }
    throw TrainError("""
      \(blamed.key) = \(blamed.value): the run would need about \(MemoryEstimate.describe(bytes: total)), but this machine \
      has \(MemoryEstimate.describe(bytes: availableBytes)) of memory. This setting sizes \(MemoryEstimate.describe(bytes: blamed.bytes)) \
      of it, the most of any (largest part: \(top.what)\(others.isEmpty ? "" : " with " + others.joined(separator: ", ")), \
      \(MemoryEstimate.describe(bytes: top.bytes))). Lower it, or run on a machine with more memory
      """)
  }

  /// "123456789 bytes (117.7 MiB)"; a saturated count reads "more than 9223372036854775807 bytes".
  public static func describe(bytes: Int) -> String {
    if bytes == Int.max { return "more than \(Int.max) bytes (over 8 EiB)" }
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    let human = unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    return unit == 0 ? human : "\(bytes) bytes (\(human))"
  }

  /// Product of non-negative factors, `Int.max` when it overflows.
  public static func product(_ factors: [Int]) -> Int {
    var p = 1
    for f in factors {
      let (r, overflow) = p.multipliedReportingOverflow(by: max(f, 0))
      if overflow { return Int.max }
      p = r
    }
    return p
  }

  /// a + b, `Int.max` when it overflows.
  public static func sum(_ a: Int, _ b: Int) -> Int {
    let (r, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : r
  }
}
