/// A minimal decoder for the Apache Thrift Compact Protocol, enough to read
/// Parquet's footer (`FileMetaData`) and page headers.
///
/// Wire format (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md):
/// integers are ULEB128 varints, signed ones zigzag-encoded; a struct is a
/// sequence of field headers `(delta << 4) | type` (delta 0 means a zigzag i16
/// field id follows) ended by a 0 byte; booleans live in the field type
/// (1 = true, 2 = false); lists/sets start with `(size << 4) | elementType`
/// (size 15 means a varint size follows); maps start with a varint size and,
/// when non-empty, a `(keyType << 4) | valueType` byte.
///
/// Every read is bounds-checked against the buffer; malformed input is a
/// `DataError` naming `context` and the absolute byte offset, never a trap.
/// Unknown fields are skipped by type, so newer writers' extra fields are fine.
struct ThriftCompactReader {
  /// Compact-protocol type codes.
  enum FieldType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6
    case double = 7, binary = 8, list = 9, set = 10, map = 11, structure = 12
  }

  struct Field {
    let id: Int16
    let type: FieldType
  }

  let bytes: [UInt8]
  /// Index of the next byte to read in `bytes`.
  private(set) var position: Int
  /// Absolute file offset of `bytes[0]`, for error messages.
  let baseOffset: Int
  /// Prefix for error messages, e.g. "/data/x.parquet: footer".
  let context: String
  /// Nesting depth of structs/containers being read (bounded so garbage cannot overflow the stack).
  private var depth = 0
  static let maxDepth = 64
  /// Largest list / map / string accepted (garbage must not trigger giant allocations).
  static let maxElements = 1 << 28

  init(bytes: [UInt8], position: Int = 0, baseOffset: Int = 0, context: String) {
    self.bytes = bytes
    self.position = position
    self.baseOffset = baseOffset
    self.context = context
  }

  /// Absolute file offset of the next byte.
  var offset: Int { baseOffset + position }

  /// A malformed-data error at absolute byte offset `at` (default: the next byte).
  func error(_ what: String, at: Int? = nil) -> DataError {
    DataError("\(context): malformed Thrift metadata at byte offset \(at ?? offset): \(what); the file is corrupt or not Parquet (re-copy or re-write it)")
  }

  // MARK: Primitives

  mutating func readByte() throws -> UInt8 {
    guard position < bytes.count else { throw error("unexpected end of data") }
    defer { position += 1 }
    return bytes[position]
  }

  mutating func readVarint() throws -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      let b = try readByte()
      guard shift < 64 else { throw error("varint longer than 10 bytes") }
      result |= UInt64(b & 0x7F) << shift
      if b & 0x80 == 0 { return result }
      shift += 7
    }
  }

  mutating func readZigzag() throws -> Int64 {
    let v = try readVarint()
    return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
  }

  mutating func readI64() throws -> Int64 { try readZigzag() }

  mutating func readI32() throws -> Int32 {
    let v = try readZigzag()
    guard let r = Int32(exactly: v) else { throw error("i32 value \(v) out of range") }
    return r
  }

  mutating func readI16() throws -> Int16 {
    let v = try readZigzag()
    guard let r = Int16(exactly: v) else { throw error("i16 value \(v) out of range") }
    return r
  }

  mutating func readDouble() throws -> Double {
    guard bytes.count - position >= 8 else { throw error("unexpected end of data in a double") }
    var bits: UInt64 = 0
    for i in 0..<8 { bits |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
    position += 8
    return Double(bitPattern: bits)
  }

  mutating func readBinary() throws -> ArraySlice<UInt8> {
    let n = try readVarint()
    guard n <= UInt64(bytes.count - position) else {
      throw error("binary length \(n) runs past the end of the data (\(bytes.count - position) bytes left)")
    }
    let start = position
    position += Int(n)
    return bytes[start..<position]
  }

  mutating func readString() throws -> String {
    String(decoding: try readBinary(), as: UTF8.self)
  }

  // MARK: Structs

  /// Reads the struct's fields in order, calling `handle` for each; a field for
  /// which `handle` returns false is skipped. Consumes the closing stop byte.
  mutating func readStruct(_ handle: (inout ThriftCompactReader, Field) throws -> Bool) throws {
    depth += 1
    guard depth <= Self.maxDepth else { throw error("structures nested more than \(Self.maxDepth) deep") }
    defer { depth -= 1 }
    var lastId: Int16 = 0
    while true {
      let at = offset
      let header = try readByte()
      if header == 0 { return }
      guard let type = FieldType(rawValue: header & 0x0F), type != .stop else {
        throw error("unknown field type \(header & 0x0F)", at: at)
      }
      let delta = Int16(header >> 4)
      let id: Int16
      if delta == 0 { id = try readI16() } else {
        let (sum, overflow) = lastId.addingReportingOverflow(delta)
        guard !overflow else { throw error("field id overflows") }
        id = sum
      }
      lastId = id
      let field = Field(id: id, type: type)
      if try !handle(&self, field) { try skip(type) }
    }
  }

  /// Reads a list (or set) header: element count and element type.
  mutating func readListHeader() throws -> (count: Int, elementType: FieldType) {
    let at = offset
    let header = try readByte()
    guard let type = FieldType(rawValue: header & 0x0F) else { throw error("unknown list element type \(header & 0x0F)", at: at) }
    var count = UInt64(header >> 4)
    if count == 15 { count = try readVarint() }
    guard count <= UInt64(Self.maxElements) else { throw error("list of \(count) elements is implausibly large") }
    // Every element takes at least one byte, except empty structs... which still take their stop byte.
    guard count <= UInt64(bytes.count - position) else {
      throw error("list of \(count) elements runs past the end of the data")
    }
    return (Int(count), type)
  }

  /// Reads a list whose elements are read by `element`.
  mutating func readList<T>(of expected: FieldType, _ element: (inout ThriftCompactReader) throws -> T) throws -> [T] {
    let (count, type) = try readListHeader()
    guard Self.compatible(type, expected) else { throw error("list elements have type \(type), expected \(expected)") }
    depth += 1
    guard depth <= Self.maxDepth else { throw error("structures nested more than \(Self.maxDepth) deep") }
    defer { depth -= 1 }
    var out: [T] = []
    out.reserveCapacity(count)
    for _ in 0..<count { out.append(try element(&self)) }
    return out
  }

  /// True when a value written with type `actual` can be read as `expected`
  /// (the two boolean codes are interchangeable).
  static func compatible(_ actual: FieldType, _ expected: FieldType) -> Bool {
    if actual == expected { return true }
    let bools: Set<FieldType> = [.boolTrue, .boolFalse]
    return bools.contains(actual) && bools.contains(expected)
  }

  /// Throws unless `field` has the expected type.
  func expect(_ field: Field, _ type: FieldType, _ name: String) throws {
    guard Self.compatible(field.type, type) else {
      throw error("field \(name) (id \(field.id)) has type \(field.type), expected \(type)")
    }
  }

  /// A boolean struct field's value (carried in its type code).
  func boolValue(_ field: Field, _ name: String) throws -> Bool {
    try expect(field, .boolTrue, name)
    return field.type == .boolTrue
  }

  // MARK: Skipping

  /// Skips one value of the given type (recursively for containers).
  mutating func skip(_ type: FieldType) throws {
    switch type {
    case .stop: throw error("unexpected stop type")
    case .boolTrue, .boolFalse: return  // struct-field booleans carry no payload
    case .byte: _ = try readByte()
    case .i16, .i32, .i64: _ = try readVarint()
    case .double: _ = try readDouble()
    case .binary: _ = try readBinary()
    case .structure: try readStruct { _, _ in false }
    case .list, .set:
      let (count, element) = try readListHeader()
      try nested {
        for _ in 0..<count { try $0.skipElement(element) }
      }
    case .map:
      let n = try readVarint()
      guard n <= UInt64(bytes.count - position) else { throw error("map of \(n) entries runs past the end of the data") }
      if n == 0 { return }
      let kv = try readByte()
      guard let k = FieldType(rawValue: kv >> 4), let v = FieldType(rawValue: kv & 0x0F) else {
        throw error("unknown map key/value types in byte \(kv)")
      }
      try nested {
        for _ in 0..<n {
          try $0.skipElement(k)
          try $0.skipElement(v)
        }
      }
    }
  }

  /// Skips one container element (booleans inside containers take one byte).
  private mutating func skipElement(_ type: FieldType) throws {
    if type == .boolTrue || type == .boolFalse { _ = try readByte() } else { try skip(type) }
  }

  private mutating func nested(_ body: (inout ThriftCompactReader) throws -> Void) throws {
    depth += 1
    guard depth <= Self.maxDepth else { throw error("structures nested more than \(Self.maxDepth) deep") }
    defer { depth -= 1 }
    try body(&self)
  }
}
