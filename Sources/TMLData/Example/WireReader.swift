/// A bounds-checked reader of protobuf wire format over a byte buffer: varints,
/// fixed32/64, length-delimited fields and skipping of unknown fields. Every read checks
/// the remaining length and throws instead of reading past the end.
struct WireReader {
  enum WireType: UInt64 { case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5 }

  let base: UnsafeRawPointer
  var position: Int
  let end: Int

  init(_ buffer: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil) {
    base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
    position = start
    self.end = end ?? buffer.count
  }

  var isAtEnd: Bool { position >= end }

  struct Malformed: Error { let reason: String; let offset: Int }

  mutating func varint() throws -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard position < end else { throw Malformed(reason: "varint runs past the end", offset: position) }
      let b = base.load(fromByteOffset: position, as: UInt8.self)
      position += 1
      if shift == 63 && b > 1 { throw Malformed(reason: "varint longer than 64 bits", offset: position - 1) }
      result |= UInt64(b & 0x7F) << shift
      if b < 0x80 { return result }
      shift += 7
      if shift > 63 { throw Malformed(reason: "varint longer than 10 bytes", offset: position - 1) }
    }
  }

  /// Reads a field key: (field number, wire type).
  mutating func key() throws -> (Int, WireType) {
    let at = position
    let k = try varint()
    guard let wt = WireType(rawValue: k & 7) else { throw Malformed(reason: "invalid wire type \(k & 7)", offset: at) }
    let field = k >> 3
    guard field > 0, field < (1 << 29) else { throw Malformed(reason: "invalid field number \(field)", offset: at) }
    return (Int(field), wt)
  }

  /// Reads a length prefix and returns the [start, end) range of the payload.
  mutating func lengthDelimited() throws -> Range<Int> {
    let at = position
    let n = try varint()
    guard n <= UInt64(end - position) else { throw Malformed(reason: "length \(n) runs past the end", offset: at) }
    let r = position..<(position + Int(n))
    position = r.upperBound
    return r
  }

  mutating func fixed32() throws -> UInt32 {
    guard end - position >= 4 else { throw Malformed(reason: "fixed32 runs past the end", offset: position) }
    let v = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    position += 4
    return v
  }

  mutating func skip(_ wt: WireType) throws {
    switch wt {
    case .varint: _ = try varint()
    case .fixed64:
      guard end - position >= 8 else { throw Malformed(reason: "fixed64 runs past the end", offset: position) }
      position += 8
    case .lengthDelimited: _ = try lengthDelimited()
    case .fixed32: _ = try fixed32()
    case .startGroup, .endGroup: throw Malformed(reason: "groups are not used by tf.Example", offset: position)
    }
  }
}
