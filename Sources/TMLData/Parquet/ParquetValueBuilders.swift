/// Accumulates one column chunk's values, one slot per row, from PLAIN-encoded
/// page data or dictionary indices (Parquet encodings PLAIN, PLAIN_DICTIONARY /
/// RLE_DICTIONARY; the dictionary page itself is PLAIN). Null rows get a zero /
/// false / empty placeholder; validity is tracked by the column reader.
protocol ParquetValueBuilder {
  init(expectedRows: Int)
  var count: Int { get }
  var dictionaryCount: Int? { get }
  /// Called at the start of each data page.
  mutating func beginPage()
  mutating func loadDictionary(_ page: inout ParquetByteCursor, count: Int) throws
  /// Appends `count` consecutive PLAIN-encoded values read from `page`.
  mutating func appendPlain(_ page: inout ParquetByteCursor, count: Int) throws
  /// Appends dictionary entries by index (each bounds-checked).
  mutating func appendDictionary(_ indices: ArraySlice<UInt32>) throws
  /// Appends already-decoded RLE booleans (BOOLEAN columns only).
  mutating func appendBits(_ bits: ArraySlice<UInt32>) throws
  mutating func appendNulls(_ n: Int)
  func storage() -> ParquetColumnValues.Storage
}

extension ParquetValueBuilder {
  mutating func beginPage() {}
  mutating func appendBits(_ bits: ArraySlice<UInt32>) throws {
    throw ParquetDecodeError("RLE-encoded values are only valid for BOOLEAN columns", hint: "re-write the file with PLAIN or dictionary encoding")
  }
}

func dictionaryIndexError(_ index: UInt32, _ size: Int) -> ParquetDecodeError {
  ParquetDecodeError("dictionary index \(index) is out of range (dictionary has \(size) entries)")
}

/// A fixed-width little-endian physical type (INT32, INT64, FLOAT, DOUBLE).
protocol ParquetFixedWidthValue {
  static var byteWidth: Int { get }
  static var zero: Self { get }
  static func load(_ p: UnsafeRawPointer, at offset: Int) -> Self
  static func storage(_ values: [Self]) -> ParquetColumnValues.Storage
}

extension Int32: ParquetFixedWidthValue {
  static var byteWidth: Int { 4 }
  static func load(_ p: UnsafeRawPointer, at o: Int) -> Int32 { Int32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: Int32.self)) }
  static func storage(_ v: [Int32]) -> ParquetColumnValues.Storage { .int32(v) }
}

extension Int64: ParquetFixedWidthValue {
  static var byteWidth: Int { 8 }
  static func load(_ p: UnsafeRawPointer, at o: Int) -> Int64 { Int64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: Int64.self)) }
  static func storage(_ v: [Int64]) -> ParquetColumnValues.Storage { .int64(v) }
}

extension Float: ParquetFixedWidthValue {
  static var byteWidth: Int { 4 }
  static func load(_ p: UnsafeRawPointer, at o: Int) -> Float {
    Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
  }
  static func storage(_ v: [Float]) -> ParquetColumnValues.Storage { .float(v) }
}

extension Double: ParquetFixedWidthValue {
  static var byteWidth: Int { 8 }
  static func load(_ p: UnsafeRawPointer, at o: Int) -> Double {
    Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
  }
  static func storage(_ v: [Double]) -> ParquetColumnValues.Storage { .double(v) }
}

/// Reads `count` fixed-width values from `page` (bounds-checked) and appends them to `out`.
func appendFixedWidth<T: ParquetFixedWidthValue>(_ page: inout ParquetByteCursor, count: Int, to out: inout [T]) throws {
  let (bytes, overflow) = count.multipliedReportingOverflow(by: T.byteWidth)
  guard !overflow else { throw ParquetDecodeError("value count \(count) is implausibly large") }
  let range = try page.take(bytes, "PLAIN \(T.self) values")
  guard count > 0 else { return }
  out.reserveCapacity(out.count + count)
  page.bytes.withUnsafeBytes { raw in
    guard let base = raw.baseAddress else { return }
    for i in 0..<count { out.append(T.load(base, at: range.lowerBound + i * T.byteWidth)) }
  }
}

/// INT32 / INT64 / FLOAT / DOUBLE columns.
struct FixedWidthBuilder<T: ParquetFixedWidthValue>: ParquetValueBuilder {
  var values: [T] = []
  var dictionary: [T]?

  init(expectedRows: Int) { values.reserveCapacity(expectedRows) }

  var count: Int { values.count }
  var dictionaryCount: Int? { dictionary?.count }

  mutating func loadDictionary(_ page: inout ParquetByteCursor, count: Int) throws {
    var d: [T] = []
    try appendFixedWidth(&page, count: count, to: &d)
    dictionary = d
  }

  mutating func appendPlain(_ page: inout ParquetByteCursor, count: Int) throws {
    try appendFixedWidth(&page, count: count, to: &values)
  }

  mutating func appendDictionary(_ indices: ArraySlice<UInt32>) throws {
    guard let d = dictionary else { throw ParquetDecodeError("dictionary-encoded page without a dictionary page") }
    values.reserveCapacity(values.count + indices.count)
    for i in indices {
      guard Int(i) < d.count else { throw dictionaryIndexError(i, d.count) }
      values.append(d[Int(i)])
    }
  }

  mutating func appendNulls(_ n: Int) { values.append(contentsOf: repeatElement(T.zero, count: n)) }

  func storage() -> ParquetColumnValues.Storage { T.storage(values) }
}

/// BYTE_ARRAY columns: PLAIN values are a 4-byte little-endian length, then the bytes.
struct ByteArrayBuilder: ParquetValueBuilder {
  var values = ParquetByteArrays()
  var dictionary: ParquetByteArrays?

  init(expectedRows: Int) { values.reserve(values: expectedRows, bytes: 0) }

  var count: Int { values.count }
  var dictionaryCount: Int? { dictionary?.count }

  private static func appendPlain(_ page: inout ParquetByteCursor, count: Int, to out: inout ParquetByteArrays) throws {
    for _ in 0..<count {
      let n = try page.readUInt32LE("BYTE_ARRAY value length")
      guard n <= UInt32(Int32.max) else { throw ParquetDecodeError("BYTE_ARRAY length \(n) is implausibly large") }
      let r = try page.take(Int(n), "BYTE_ARRAY value")
      out.append(page.bytes[r])
    }
  }

  mutating func loadDictionary(_ page: inout ParquetByteCursor, count: Int) throws {
    var d = ParquetByteArrays()
    d.reserve(values: min(count, page.remaining / 4), bytes: page.remaining)
    try Self.appendPlain(&page, count: count, to: &d)
    dictionary = d
  }

  mutating func appendPlain(_ page: inout ParquetByteCursor, count: Int) throws {
    try Self.appendPlain(&page, count: count, to: &values)
  }

  mutating func appendDictionary(_ indices: ArraySlice<UInt32>) throws {
    guard let d = dictionary else { throw ParquetDecodeError("dictionary-encoded page without a dictionary page") }
    for i in indices {
      guard Int(i) < d.count else { throw dictionaryIndexError(i, d.count) }
      values.append(d[Int(i)])
    }
  }

  mutating func appendNulls(_ n: Int) { values.appendEmpty(n) }

  func storage() -> ParquetColumnValues.Storage { .byteArray(values) }
}

/// BOOLEAN columns: PLAIN values are bit-packed, LSB first; RLE values come
/// through `appendBits`. Booleans are never dictionary-encoded.
struct BooleanBuilder: ParquetValueBuilder {
  var values: [Bool] = []
  /// Bits of the current page's byte at `page.position` already consumed.
  private var bitOffset = 0

  init(expectedRows: Int) { values.reserveCapacity(expectedRows) }

  var count: Int { values.count }
  var dictionaryCount: Int? { nil }

  mutating func beginPage() { bitOffset = 0 }

  mutating func loadDictionary(_ page: inout ParquetByteCursor, count: Int) throws {
    throw ParquetDecodeError("BOOLEAN column has a dictionary page")
  }

  mutating func appendPlain(_ page: inout ParquetByteCursor, count: Int) throws {
    let totalBits = bitOffset + count
    guard (totalBits + 7) / 8 <= page.remaining else {
      throw ParquetDecodeError("PLAIN BOOLEAN values: need \((totalBits + 7) / 8) bytes, only \(page.remaining) left in the page")
    }
    let start = page.position
    for i in bitOffset..<totalBits {
      values.append(page.bytes[start + (i >> 3)] & (1 << UInt8(i & 7)) != 0)
    }
    _ = try page.take(totalBits / 8, "PLAIN BOOLEAN values")
    bitOffset = totalBits % 8
  }

  mutating func appendDictionary(_ indices: ArraySlice<UInt32>) throws {
    throw ParquetDecodeError("BOOLEAN column has dictionary-encoded values")
  }

  mutating func appendBits(_ bits: ArraySlice<UInt32>) throws {
    values.append(contentsOf: bits.lazy.map { $0 != 0 })
  }

  mutating func appendNulls(_ n: Int) { values.append(contentsOf: repeatElement(false, count: n)) }

  func storage() -> ParquetColumnValues.Storage { .boolean(values) }
}
