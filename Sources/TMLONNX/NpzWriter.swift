import CZlib
import Foundation
import TMLIO

/// A NumPy `.npz` archive (what `np.savez` writes and `np.load` reads): a zip file of
/// uncompressed ("stored") members `<name>.npy`, each an NPY v1.0 array:
///
///     "\x93NUMPY" 01 00 | header length (u16 LE) | "{'descr': '<f4', 'fortran_order': False, 'shape': (N, C), }"
///     padded with spaces and a final "\n" so the data starts at a multiple of 64 | data (C order, little-endian)
///
/// Zip records (PKWARE APPNOTE): a local file header per member (signature 0x04034b50,
/// version 20, method 0, CRC-32 of the data, sizes), then the central directory
/// (0x02014b50 per member) and its end record (0x06054b50). Without zip64: each member and
/// the whole archive must stay under 4 GiB, which `write` checks.
public struct NpzWriter {
  private var members: [(name: String, bytes: Data)] = []

  public init() {}

  /// Adds a float32 array ('<f4') of `shape` (row-major values).
  public mutating func add(_ name: String, floats: [Float], shape: [Int]) {
    members.append((name, Self.npy(descr: "<f4", shape: shape, data: floats.map(\.bitPattern.littleEndian).withUnsafeBytes { Data($0) })))
  }

  /// Adds an int64 array ('<i8') of `shape`.
  public mutating func add(_ name: String, int64s: [Int64], shape: [Int]) {
    members.append((name, Self.npy(descr: "<i8", shape: shape, data: int64s.map(\.littleEndian).withUnsafeBytes { Data($0) })))
  }

  static func npy(descr: String, shape: [Int], data: Data) -> Data {
    let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    out.append(le: UInt16(header.utf8.count))
    out.append(contentsOf: Array(header.utf8))
    out.append(data)
    return out
  }

  /// The archive's bytes.
  public func encoded() throws -> Data {
    var out = Data()
    var central = Data()
    for m in members {
      let name = Array("\(m.name).npy".utf8)
      guard m.bytes.count < Int(UInt32.max), out.count < Int(UInt32.max) else {
        throw ONNXExportError("\(m.name): .npz members and archives over 4 GiB need zip64, which is not written; export fewer examples or use .safetensors")
      }
      let crc = m.bytes.withUnsafeBytes { UInt32(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))) }
      let offset = UInt32(out.count)
      // Local file header: version 20, no flags, stored, DOS time/date 0 (1980-01-01).
      out.append(le: UInt32(0x0403_4b50)); out.append(le: UInt16(20)); out.append(le: UInt16(0)); out.append(le: UInt16(0))
      out.append(le: UInt16(0)); out.append(le: UInt16(0x21))
      out.append(le: crc); out.append(le: UInt32(m.bytes.count)); out.append(le: UInt32(m.bytes.count))
      out.append(le: UInt16(name.count)); out.append(le: UInt16(0))
      out.append(contentsOf: name)
      out.append(m.bytes)
      // Central directory entry.
      central.append(le: UInt32(0x0201_4b50)); central.append(le: UInt16(20)); central.append(le: UInt16(20))
      central.append(le: UInt16(0)); central.append(le: UInt16(0)); central.append(le: UInt16(0)); central.append(le: UInt16(0x21))
      central.append(le: crc); central.append(le: UInt32(m.bytes.count)); central.append(le: UInt32(m.bytes.count))
      central.append(le: UInt16(name.count)); central.append(le: UInt16(0)); central.append(le: UInt16(0))
      central.append(le: UInt16(0)); central.append(le: UInt16(0)); central.append(le: UInt32(0)); central.append(le: offset)
      central.append(contentsOf: name)
    }
    guard out.count + central.count < Int(UInt32.max) else {
      throw ONNXExportError(".npz archives over 4 GiB need zip64, which is not written; export fewer examples or use .safetensors")
    }
    let centralOffset = UInt32(out.count)
    out.append(central)
    out.append(le: UInt32(0x0605_4b50)); out.append(le: UInt16(0)); out.append(le: UInt16(0))
    out.append(le: UInt16(members.count)); out.append(le: UInt16(members.count))
    out.append(le: UInt32(central.count)); out.append(le: centralOffset); out.append(le: UInt16(0))
    return out
  }

  public func write(to path: String) throws {
    let data = try encoded()
    let out = try FileWriter(path: path)
    try out.write(data)
    try out.close()
  }
}

extension Data {
  mutating func append<T: FixedWidthInteger>(le value: T) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
}
