import Foundation
import TMLTensor

/// Writes TFRecord files (format in `TFRecordReader`), gzip-compressed when
/// `compressed` (the original's `.tfrecord.gz` data).
///
///     let w = try TFRecordWriter(path: "out.tfrecord.gz", compressed: true)
///     try w.write(bytes); try w.close()
public final class TFRecordWriter {
  public let path: String
  private let gzip: GzipWriter?
  private let handle: FileHandle?
  public private(set) var recordsWritten = 0

  public init(path: String, compressed: Bool? = nil) throws {
    self.path = path
    if compressed ?? path.hasSuffix(".gz") {
      gzip = try GzipWriter(path: path)
      handle = nil
    } else {
      guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
        throw DataError("\(path): cannot create file for writing; check the directory exists and is writable")
      }
      handle = h
      gzip = nil
    }
  }

  /// The framed bytes of one record.
  public static func frame(_ record: [UInt8]) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(record.count + 16)
    let length = UInt64(record.count).littleEndian
    withUnsafeBytes(of: length) { out.append(contentsOf: $0) }
    let lengthCRC = withUnsafeBytes(of: length) { CRC32C.masked(CRC32C.checksum($0)) }
    withUnsafeBytes(of: lengthCRC.littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: record)
    let dataCRC = record.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0)) }
    withUnsafeBytes(of: dataCRC.littleEndian) { out.append(contentsOf: $0) }
    return out
  }

  public func write(_ record: [UInt8]) throws {
    let framed = TFRecordWriter.frame(record)
    if let gzip { try framed.withUnsafeBytes { try gzip.write($0) } } else { handle!.write(Data(framed)) }
    recordsWritten += 1
  }

  public func close() throws {
    if let gzip { try gzip.close() } else { try handle?.close() }
  }
}
