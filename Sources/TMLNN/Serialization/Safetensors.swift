import Foundation
import TMLIO
import TMLTensor

/// The safetensors format (huggingface/safetensors):
///
///     [u64 LE n][n bytes JSON header, space-padded][data]
///     header: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …,
///              "__metadata__": {"key": "value"}}
///
/// Offsets are relative to the start of the data section; data is little-endian and
/// written 8-byte aligned. Reads F32, F16, BF16, I64, I32, U8, BOOL; floating types
/// become Float32 tensors, integer types `IndexTensor`s (or Float32 on request).
public struct SafetensorsFile {
  public struct Entry {
    public let dtype: StateDType
    public let shape: [Int]
    let bytes: Data
  }

  public private(set) var names: [String]
  public private(set) var entries: [String: Entry]
  public var metadata: [String: String]
  let source: String

  /// Parses `url`, validating the header and every tensor's byte range.
  public init(contentsOf url: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
      throw TensorError("safetensors: cannot read \(FileError.message(error, path: url.path))")
    }
    try self.init(data: data, source: url.path)
  }

  public init(data: Data, source: String = "<memory>") throws {
    self.source = source
    func fail(_ msg: String) -> TensorError { TensorError("safetensors: \(source): \(msg)") }
    guard data.count >= 8 else { throw fail("file is \(data.count) bytes, too short for the 8-byte header length; is it a safetensors file?") }
    let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    guard n <= UInt64(data.count - 8) else {
      throw fail("header length \(n) at byte 0 runs past the end of the \(data.count)-byte file (truncated or not a safetensors file)")
    }
    let headerStart = data.startIndex + 8, dataStart = headerStart + Int(n)
    guard let json = try? JSONSerialization.jsonObject(with: data[headerStart..<dataStart]) as? [String: Any] else {
      throw fail("header at bytes 8..<\(8 + n) is not a JSON object")
    }
    var entries: [String: Entry] = [:]
    var order: [(Int, String)] = []
    metadata = [:]
    let dataLength = data.count - 8 - Int(n)
    for (name, value) in json {
      if name == "__metadata__" {
        guard let m = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
        metadata = m
        continue
      }
      guard let info = value as? [String: Any], let dt = info["dtype"] as? String,
            let shape = info["shape"] as? [Int], let offs = info["data_offsets"] as? [Int], offs.count == 2
      else { throw fail("tensor \"\(name)\" needs dtype, shape and data_offsets [begin, end]") }
      guard let dtype = StateDType(rawValue: dt) else {
        throw fail("tensor \"\(name)\" has dtype \(dt); supported: \(StateDType.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor \"\(name)\" has a negative dimension in \(shape)") }
      let (b, e) = (offs[0], offs[1])
      guard b >= 0, b <= e, e <= dataLength else {
        throw fail("tensor \"\(name)\" data_offsets [\(b), \(e)] fall outside the \(dataLength)-byte data section (file truncated?)")
      }
      var expected = dtype.byteWidth
      for d in shape {
        let (m, overflow) = expected.multipliedReportingOverflow(by: d)
        guard !overflow else { throw fail("tensor \"\(name)\" has shape \(shape), too large to address") }
        expected = m
      }
      guard e - b == expected else {
        throw fail("tensor \"\(name)\" of \(dt) \(shape) needs \(expected) bytes but data_offsets span \(e - b)")
      }
      entries[name] = Entry(dtype: dtype, shape: shape, bytes: data[(dataStart + b)..<(dataStart + e)])
      order.append((b, name))
    }
    self.entries = entries
    names = order.sorted { $0 < $1 }.map(\.1)
  }

  func entry(_ name: String) throws -> Entry {
    guard let e = entries[name] else {
      throw TensorError("safetensors: \(source) has no tensor \"\(name)\" (it has: \(names.prefix(20).joined(separator: ", "))\(names.count > 20 ? ", …" : ""))")
    }
    return e
  }

  /// Element `i` of raw little-endian `dtype` data as Float32.
  @inline(__always) static func scalar(_ raw: UnsafeRawBufferPointer, _ i: Int, _ dtype: StateDType) -> Float {
    switch dtype {
    case .f32: return Float(bitPattern: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian)
    case .f16: return HalfPrecision.halfToFloat(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian)
    case .bf16: return HalfPrecision.bfloat16ToFloat(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian)
    case .i64: return Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
    case .i32: return Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
    case .u8, .bool: return Float(raw[i])
    }
  }

  /// The tensor as Float32 (any dtype converted; integers exactly up to 2²⁴).
  public func tensor(_ name: String) throws -> Tensor {
    let e = try entry(name)
    let count = e.shape.reduce(1, *)
    let values: [Float] = e.bytes.withUnsafeBytes { raw in (0..<count).map { SafetensorsFile.scalar(raw, $0, e.dtype) } }
    return try Tensor(shape: e.shape, scalars: values)
  }

  /// Rows `rows` (indices into the first dimension) of a tensor as Float32, shape
  /// [rows.count] + the rest: reads only those rows of a mapped file, so one rank can take
  /// its rows of a table larger than its memory.
  public func tensor(_ name: String, rows: [Int]) throws -> Tensor {
    let e = try entry(name)
    guard let n = e.shape.first else { throw TensorError("safetensors: \(source): tensor \"\(name)\" is a scalar; it has no rows") }
    if let bad = rows.first(where: { $0 < 0 || $0 >= n }) {
      throw TensorError("safetensors: \(source): tensor \"\(name)\" has \(n) rows; row \(bad) was asked for")
    }
    let width = e.shape.dropFirst().reduce(1, *)
    var values = [Float](repeating: 0, count: rows.count * width)
    e.bytes.withUnsafeBytes { raw in
      for (k, r) in rows.enumerated() {
        for j in 0..<width { values[k * width + j] = SafetensorsFile.scalar(raw, r * width + j, e.dtype) }
      }
    }
    return try Tensor(shape: [rows.count] + e.shape.dropFirst(), scalars: values)
  }

  /// An integer tensor (I64, I32, U8, BOOL) as exact `Int` values.
  public func indexTensor(_ name: String) throws -> IndexTensor {
    let e = try entry(name)
    let count = e.shape.reduce(1, *)
    let values: [Int] = try e.bytes.withUnsafeBytes { raw in
      switch e.dtype {
      case .i64: return (0..<count).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
      case .i32: return (0..<count).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
      case .u8, .bool: return (0..<count).map { Int(raw[$0]) }
      default: throw TensorError("safetensors: \(source): tensor \"\(name)\" is \(e.dtype.rawValue), not an integer type")
      }
    }
    return try IndexTensor(shape: e.shape, values: values, dtype: e.dtype == .i32 ? .int32 : .int64)
  }

  /// All tensors (but `excluded`) as a state dict (Float32 values, original dtypes remembered).
  public func stateDict(excluding excluded: Set<String> = []) throws -> StateDict {
    var d = StateDict()
    for n in names where !excluded.contains(n) { d[n] = .init(try tensor(n), dtype: entries[n]!.dtype) }
    return d
  }
}

/// Writes safetensors files; entries are stored in the order added.
///
///     var w = SafetensorsWriter(metadata: ["format": "pt"])
///     w.add("weight", tensor); w.add("steps", IndexTensor([3]))
///     try w.write(to: url)
public struct SafetensorsWriter {
  private var items: [(String, StateDType, [Int], Data)] = []
  public var metadata: [String: String]

  public init(metadata: [String: String] = [:]) { self.metadata = metadata }

  /// Adds a float tensor stored as F32, F16 or BF16 (or an integer dtype, rounding values).
  public mutating func add(_ name: String, _ t: Tensor, dtype: StateDType = .f32) {
    var d = Data(capacity: t.count * dtype.byteWidth)
    t.withUnsafeBufferPointer { p in
      for v in p {
        switch dtype {
        case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) }
        case .f16: withUnsafeBytes(of: HalfPrecision.floatToHalf(v).littleEndian) { d.append(contentsOf: $0) }
        case .bf16: withUnsafeBytes(of: HalfPrecision.floatToBFloat16(v).littleEndian) { d.append(contentsOf: $0) }
        case .i64: withUnsafeBytes(of: Int64(v.rounded()).littleEndian) { d.append(contentsOf: $0) }
        case .i32: withUnsafeBytes(of: Int32(v.rounded()).littleEndian) { d.append(contentsOf: $0) }
        case .u8, .bool: d.append(UInt8(Swift.max(0, Swift.min(255, v.rounded()))))
        }
      }
    }
    items.append((name, dtype, t.shape, d))
  }

  /// Adds an integer tensor stored as I64 or I32.
  public mutating func add(_ name: String, _ t: IndexTensor, dtype: StateDType = .i64) {
    var d = Data(capacity: t.count * dtype.byteWidth)
    for v in t.values {
      if dtype == .i32 { withUnsafeBytes(of: Int32(truncatingIfNeeded: v).littleEndian) { d.append(contentsOf: $0) } }
      else { withUnsafeBytes(of: Int64(v).littleEndian) { d.append(contentsOf: $0) } }
    }
    items.append((name, dtype == .i32 ? .i32 : .i64, t.shape, d))
  }

  /// Adds every entry of a state dict with its dtype.
  public mutating func add(_ state: StateDict) {
    for (n, e) in state.entries { add(n, e.tensor, dtype: e.dtype) }
  }

  /// The encoded file.
  public func encoded() -> Data {
    var header = "{"
    var offset = 0
    var parts: [String] = []
    if !metadata.isEmpty {
      let m = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
      parts.append("\"__metadata__\":{" + m.joined(separator: ",") + "}")
    }
    for (name, dtype, shape, data) in items {
      let shapeText = shape.map(String.init).joined(separator: ",")
      parts.append("\(jsonString(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shapeText)],\"data_offsets\":[\(offset),\(offset + data.count)]}")
      offset += data.count
    }
    header += parts.joined(separator: ",") + "}"
    var headerBytes = Data(header.utf8)
    while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
    var out = Data()
    withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(headerBytes)
    for item in items { out.append(item.3) }
    return out
  }

  public func write(to url: URL) throws {
    do { try encoded().write(to: url) } catch {
      throw TensorError("safetensors: cannot write \(FileError.message(error, path: url.path))")
    }
  }

  private func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      default:
        if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
      }
    }
    return out + "\""
  }
}
