/// A minimal encoder for the Apache Thrift Compact Protocol — the inverse of
/// `ThriftCompactReader`, enough to write Parquet's page headers and footer:
///
///     field header   (delta << 4) | type   when 0 < delta ≤ 15 (delta from the previous field id),
///                    else type, then the id as a zigzag varint
///     i32, i64       zigzag ULEB128 varints;  binary: varint length, bytes
///     list           (size << 4) | elementType when size < 15, else 0xF0 | elementType, varint size
///     struct         fields, then a stop byte 0
///
///     var w = ThriftCompactWriter()
///     w.structure { w in w.field(1, i32: 7); w.field(4, string: "lhs") }
///     w.bytes   // [0x15, 0x0E, 0x38, 0x03, 0x6C, 0x68, 0x73, 0x00]
struct ThriftCompactWriter {
  typealias FieldType = ThriftCompactReader.FieldType

  private(set) var bytes: [UInt8] = []
  /// Last field id written in each open struct (innermost last).
  private var lastFieldIDs: [Int16] = [0]

  init() {}

  mutating func varint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(v & 0x7F) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  mutating func zigzag(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

  private mutating func header(_ id: Int16, _ type: FieldType) {
    let delta = Int(id) - Int(lastFieldIDs[lastFieldIDs.count - 1])
    if delta > 0 && delta <= 15 {
      bytes.append(UInt8(delta << 4) | type.rawValue)
    } else {
      bytes.append(type.rawValue)
      zigzag(Int64(id))
    }
    lastFieldIDs[lastFieldIDs.count - 1] = id
  }

  mutating func field(_ id: Int16, i32 v: Int32) {
    header(id, .i32)
    zigzag(Int64(v))
  }

  mutating func field(_ id: Int16, i64 v: Int64) {
    header(id, .i64)
    zigzag(v)
  }

  mutating func field(_ id: Int16, string s: String) {
    header(id, .binary)
    binary(Array(s.utf8))
  }

  mutating func binary(_ b: [UInt8]) {
    varint(UInt64(b.count))
    bytes.append(contentsOf: b)
  }

  /// A list field of `count` elements of `type`; `body` writes the elements.
  mutating func field(_ id: Int16, listOf type: FieldType, count: Int, _ body: (inout ThriftCompactWriter) -> Void) {
    header(id, .list)
    if count < 15 {
      bytes.append(UInt8(count << 4) | type.rawValue)
    } else {
      bytes.append(0xF0 | type.rawValue)
      varint(UInt64(count))
    }
    body(&self)
  }

  /// A struct-valued field.
  mutating func field(_ id: Int16, structure body: (inout ThriftCompactWriter) -> Void) {
    header(id, .structure)
    structure(body)
  }

  /// A struct (top level or a list element): its fields, then the stop byte.
  mutating func structure(_ body: (inout ThriftCompactWriter) -> Void) {
    lastFieldIDs.append(0)
    body(&self)
    bytes.append(FieldType.stop.rawValue)
    lastFieldIDs.removeLast()
  }
}
