import Foundation
import TMLIO
import TMLTensor

/// Writes TFRecord files (format in `TFRecordReader`), gzip-compressed when
/// `compressed` (the original's `.tfrecord.gz` data). A failed write (a full disk)
/// throws a `FileError` naming the file: `out.tfrecord: no space left on device`.
///
///     let w = try TFRecordWriter(path: "out.tfrecord.gz", compressed: true)
///     try w.write(bytes); try w.close()
public final class TFRecordWriter {
  public let path: String
  private let gzip: GzipWriter?
  private let file: FileWriter?
  public private(set) var recordsWritten = 0

  public init(path: String, compressed: Bool? = nil) throws {
    self.path = path
    if compressed ?? path.hasSuffix(".gz") {
      gzip = try GzipWriter(path: path)
      file = nil
    } else {
      file = try FileWriter(path: path)
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
    if let gzip { try framed.withUnsafeBytes { try gzip.write($0) } } else { try file?.write(framed) }
    recordsWritten += 1
  }

  public func close() throws {
    if let gzip { try gzip.close() } else { try file?.close() }
  }
}
