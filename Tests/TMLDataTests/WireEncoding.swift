/// Test helper: hand-built protobuf wire bytes for tf.Example, so tests can produce
/// packed and unpacked encodings, unknown fields and malformed records.
enum Wire {
  static func varint(_ v: UInt64) -> [UInt8] {
    var v = v
    var out: [UInt8] = []
    while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
    out.append(UInt8(v))
    return out
  }

  static func key(_ field: Int, _ wireType: Int) -> [UInt8] { varint(UInt64(field << 3 | wireType)) }
  static func bytes(_ field: Int, _ payload: [UInt8]) -> [UInt8] { key(field, 2) + varint(UInt64(payload.count)) + payload }
  static func fixed32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

  static func floatList(_ values: [Float], packed: Bool = true) -> [UInt8] {
    if packed { return bytes(1, values.flatMap { fixed32($0.bitPattern) }) }
    return values.flatMap { key(1, 5) + fixed32($0.bitPattern) }
  }

  static func int64List(_ values: [Int64], packed: Bool = true) -> [UInt8] {
    if packed { return bytes(1, values.flatMap { varint(UInt64(bitPattern: $0)) }) }
    return values.flatMap { key(1, 0) + varint(UInt64(bitPattern: $0)) }
  }

  enum Value { case floats([Float]), ints([Int64]), strings([String]) }

  static func feature(_ v: Value, packed: Bool = true) -> [UInt8] {
    switch v {
    case .floats(let f): return bytes(2, floatList(f, packed: packed))
    case .ints(let i): return bytes(3, int64List(i, packed: packed))
    case .strings(let s): return bytes(1, s.flatMap { bytes(1, Array($0.utf8)) })
    }
  }

  /// Example{features: Features{feature: map<string, Feature>}} with entries in the given order.
  static func example(_ features: [(String, Value)], packed: Bool = true) -> [UInt8] {
    let entries = features.flatMap { name, value in bytes(1, bytes(1, Array(name.utf8)) + bytes(2, feature(value, packed: packed))) }
    return bytes(1, entries)
  }
}
