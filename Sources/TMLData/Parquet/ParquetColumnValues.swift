/// Which rows of a column hold a value: one bit per row, LSB first in 64-bit
/// words (Arrow's validity-bitmap convention; 1 = valid, 0 = null).
public struct ParquetValidity: Equatable, Sendable {
  public private(set) var words: [UInt64] = []
  public private(set) var count = 0
  public private(set) var nullCount = 0

  public init() {}

  public func isValid(_ row: Int) -> Bool {
    guard row >= 0, row < count else { return false }
    return words[row >> 6] & (1 << UInt64(row & 63)) != 0
  }

  /// Appends `n` rows that are all valid or all null.
  mutating func append(valid: Bool, count n: Int) {
    guard n > 0 else { return }
    let newCount = count + n
    let needed = (newCount + 63) >> 6
    if words.count < needed { words.append(contentsOf: repeatElement(0, count: needed - words.count)) }
    if valid {
      var row = count
      while row < newCount {
        let bit = row & 63
        let take = min(64 - bit, newCount - row)
        let mask: UInt64 = take == 64 ? ~0 : ((1 << UInt64(take)) - 1) << UInt64(bit)
        words[row >> 6] |= mask
        row += take
      }
    } else {
      nullCount += n
    }
    count = newCount
  }

  /// Appends another bitmap's rows (word at a time; bits past `count` are always 0).
  mutating func append(_ other: ParquetValidity) {
    guard other.count > 0 else { return }
    let shift = UInt64(count & 63)
    if shift == 0 {
      words.append(contentsOf: other.words)
    } else {
      for w in other.words {
        words[words.count - 1] |= w << shift
        words.append(w >> (64 - shift))
      }
    }
    count += other.count
    nullCount += other.nullCount
    let needed = (count + 63) >> 6
    if words.count > needed { words.removeLast(words.count - needed) }
  }
}

/// Variable-length byte strings stored back to back: value `i` is
/// `bytes[offsets[i]..<offsets[i + 1]]` (a null row is an empty value).
public struct ParquetByteArrays: Equatable, Sendable {
  public private(set) var offsets: [Int] = [0]
  public private(set) var bytes: [UInt8] = []

  public init() {}

  public var count: Int { offsets.count - 1 }

  public subscript(i: Int) -> ArraySlice<UInt8> { bytes[offsets[i]..<offsets[i + 1]] }

  /// Value `i` decoded as UTF-8 (invalid sequences become U+FFFD).
  public func string(at i: Int) -> String { String(decoding: self[i], as: UTF8.self) }

  mutating func append<C: Collection>(_ value: C) where C.Element == UInt8 {
    bytes.append(contentsOf: value)
    offsets.append(bytes.count)
  }

  mutating func appendEmpty(_ n: Int) {
    offsets.append(contentsOf: repeatElement(bytes.count, count: n))
  }

  mutating func append(_ other: ParquetByteArrays) {
    let base = bytes.count
    bytes.append(contentsOf: other.bytes)
    offsets.append(contentsOf: other.offsets.dropFirst().lazy.map { $0 + base })
  }

  mutating func reserve(values: Int, bytes n: Int) {
    offsets.reserveCapacity(offsets.count + values)
    bytes.reserveCapacity(bytes.count + n)
  }
}

/// One value of any supported physical type, for generic access and tests.
public enum ParquetValue: Equatable, Sendable, CustomStringConvertible {
  case null
  case boolean(Bool)
  case int32(Int32)
  case int64(Int64)
  case float(Float)
  case double(Double)
  case bytes([UInt8])

  /// Floats compare by bit pattern, so NaN == NaN and -0.0 != 0.0.
  public static func == (a: ParquetValue, b: ParquetValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case let (.boolean(x), .boolean(y)): return x == y
    case let (.int32(x), .int32(y)): return x == y
    case let (.int64(x), .int64(y)): return x == y
    case let (.float(x), .float(y)): return x.bitPattern == y.bitPattern
    case let (.double(x), .double(y)): return x.bitPattern == y.bitPattern
    case let (.bytes(x), .bytes(y)): return x == y
    default: return false
    }
  }

  public var description: String {
    switch self {
    case .null: return "null"
    case .boolean(let v): return "\(v)"
    case .int32(let v): return "\(v)"
    case .int64(let v): return "\(v)"
    case .float(let v): return "\(v)"
    case .double(let v): return "\(v)"
    case .bytes(let v): return "\"\(String(decoding: v, as: UTF8.self))\""
    }
  }
}

/// The decoded values of one column (one row group, or several concatenated):
/// a dense array with one slot per row (null rows hold 0 / false / empty) plus a
/// validity bitmap that is nil when no row is null.
public struct ParquetColumnValues: Sendable {
  public enum Storage: Sendable {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case byteArray(ParquetByteArrays)
  }

  public let column: ParquetColumn
  public private(set) var storage: Storage
  /// nil when every row holds a value.
  public private(set) var validity: ParquetValidity?

  init(column: ParquetColumn, storage: Storage, validity: ParquetValidity?) {
    self.column = column
    self.storage = storage
    self.validity = validity.flatMap { $0.nullCount == 0 ? nil : $0 }
  }

  /// No rows of `column` (nil for unsupported physical types).
  static func empty(_ column: ParquetColumn) -> ParquetColumnValues? {
    let storage: Storage
    switch column.physicalType {
    case .boolean: storage = .boolean([])
    case .int32: storage = .int32([])
    case .int64: storage = .int64([])
    case .float: storage = .float([])
    case .double: storage = .double([])
    case .byteArray: storage = .byteArray(ParquetByteArrays())
    default: return nil
    }
    return ParquetColumnValues(column: column, storage: storage, validity: nil)
  }

  public var count: Int {
    switch storage {
    case .boolean(let v): return v.count
    case .int32(let v): return v.count
    case .int64(let v): return v.count
    case .float(let v): return v.count
    case .double(let v): return v.count
    case .byteArray(let v): return v.count
    }
  }

  public var nullCount: Int { validity?.nullCount ?? 0 }

  public func isNull(_ row: Int) -> Bool { validity.map { !$0.isValid(row) } ?? false }

  /// Row `row` as a `ParquetValue` (`.null` for null rows and out-of-range rows).
  public subscript(row: Int) -> ParquetValue {
    guard row >= 0, row < count, !isNull(row) else { return .null }
    switch storage {
    case .boolean(let v): return .boolean(v[row])
    case .int32(let v): return .int32(v[row])
    case .int64(let v): return .int64(v[row])
    case .float(let v): return .float(v[row])
    case .double(let v): return .double(v[row])
    case .byteArray(let v): return .bytes(Array(v[row]))
    }
  }

  /// Every row as a `ParquetValue`.
  public var values: [ParquetValue] { (0..<count).map { self[$0] } }

  /// The rows as strings (nil for nulls) when this is a BYTE_ARRAY column.
  public var strings: [String?]? {
    guard case .byteArray(let v) = storage else { return nil }
    return (0..<v.count).map { isNull($0) ? nil : v.string(at: $0) }
  }

  /// Appends the rows of another read of the same column (e.g. the next row group).
  mutating func append(_ other: ParquetColumnValues) {
    let before = count
    if validity != nil || other.validity != nil {
      var merged = validity ?? { var v = ParquetValidity(); v.append(valid: true, count: before); return v }()
      if let o = other.validity { merged.append(o) } else { merged.append(valid: true, count: other.count) }
      validity = merged
    }
    // Reset `storage` before appending so the extracted array is uniquely referenced (no copy).
    switch (storage, other.storage) {
    case (.boolean(var a), .boolean(let b)): storage = .boolean([]); a += b; storage = .boolean(a)
    case (.int32(var a), .int32(let b)): storage = .boolean([]); a += b; storage = .int32(a)
    case (.int64(var a), .int64(let b)): storage = .boolean([]); a += b; storage = .int64(a)
    case (.float(var a), .float(let b)): storage = .boolean([]); a += b; storage = .float(a)
    case (.double(var a), .double(let b)): storage = .boolean([]); a += b; storage = .double(a)
    case (.byteArray(var a), .byteArray(let b)): storage = .boolean([]); a.append(b); storage = .byteArray(a)
    default: break  // same column, so always the same storage kind
    }
  }
}
