import Foundation
import TMLIO

/// A NumPy `.npy` array (format versions 1–3): magic `\x93NUMPY`, version, header length
/// (u16 for v1, u32 for v2/v3), a Python-dict header
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (n,), }`, then raw C-order data.
/// Supported dtypes: b1 (bool), i1/u1, i2/u2, i4/u4, i8/u8, f4, f8, little-endian.
/// Values are exposed as `Double`.
public struct NpyArray {
  public let shape: [Int]
  public let descr: String
  public let values: [Double]

  public init(contentsOf url: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw DataError("\(url.path): cannot read .npy file (\(FileError.reason(of: error))); check the path (e.g. truncate_and_slice mask paths)")
    }
    try self.init(data: data, source: url.path)
  }

  public init(data: Data, source: String) throws {
    let bytes = [UInt8](data)
    func fail(_ m: String) -> DataError { DataError("\(source): not a valid .npy file: \(m)") }
    guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else { throw fail("missing \\x93NUMPY magic at byte 0") }
    let major = bytes[6]
    let headerLength: Int, headerStart: Int
    if major == 1 {
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    } else if major == 2 || major == 3 {
      guard bytes.count >= 12 else { throw fail("truncated header length") }
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      headerStart = 12
    } else { throw fail("unsupported format version \(major)") }
    guard headerStart + headerLength <= bytes.count, let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
      throw fail("header of \(headerLength) bytes runs past the end")
    }
    func field(_ key: String) -> String? {
      guard let r = header.range(of: "'\(key)':") else { return nil }
      return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
    }
    guard let d = field("descr"), d.hasPrefix("'"), let close = d.dropFirst().firstIndex(of: "'") else { throw fail("header has no 'descr'") }
    descr = String(d[d.index(after: d.startIndex)..<close])
    if let f = field("fortran_order"), f.hasPrefix("True") { throw fail("fortran_order True is not supported; save with np.ascontiguousarray") }
    guard let s = field("shape"), let open = s.firstIndex(of: "("), let end = s.firstIndex(of: ")") else { throw fail("header has no 'shape'") }
    shape = s[s.index(after: open)..<end].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("negative dimension in shape \(shape)") }
    var count = 1
    for d in shape {
      let (m, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow else { throw fail("shape \(shape) is too large") }
      count = m
    }
    let body = headerStart + headerLength
    let kind = descr.last.map(String.init) ?? ""
    let type = String(descr.dropFirst())
    let width: Int
    switch type {
    case "b1", "i1", "u1": width = 1
    case "i2", "u2": width = 2
    case "i4", "u4", "f4": width = 4
    case "i8", "u8", "f8": width = 8
    default: throw fail("dtype \(descr) is not supported (use bool, int or float)")
    }
    _ = kind
    guard descr.first == "<" || descr.first == "|" || width == 1 else { throw fail("dtype \(descr) is big-endian; save as little-endian") }
    guard bytes.count - body >= count * width else { throw fail("data section has \(bytes.count - body) bytes, \(count * width) needed for shape \(shape)") }
    values = bytes.withUnsafeBytes { raw in
      (0..<count).map { i -> Double in
        let at = body + i * width
        switch type {
        case "b1", "u1": return Double(raw[at])
        case "i1": return Double(Int8(bitPattern: raw[at]))
        case "i2": return Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int16.self)))
        case "u2": return Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
        case "i4": return Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)))
        case "u4": return Double(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        case "i8": return Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self)))
        case "u8": return Double(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
        case "f4": return Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
        default: return Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
        }
      }
    }
  }

  /// Indices of the nonzero elements (`np.nonzero(a)[0]` for a 1-d array).
  public var nonzeroIndices: [Int] { values.indices.filter { values[$0] != 0 } }
}
