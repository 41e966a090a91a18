import Foundation
import TMLTensor

/// Streams the records of a TFRecord file, plain or gzip (by `.gz` or magic bytes),
/// in constant memory. Each record on disk:
///
///     u64 LE length | u32 LE masked CRC32C(length bytes) | data | u32 LE masked CRC32C(data)
///
/// A bad checksum or a truncated record is an error naming the file and the byte
/// offset (in the uncompressed stream). With `ignoreDataErrors`, a record whose data
/// checksum fails is skipped and counted; a bad length or a truncation ends the file
/// (nothing after it can be framed) and is counted too.
///
///     let reader = try TFRecordReader(path: "part-0.tfrecord.gz")
///     while let record = try reader.next() { … }
public final class TFRecordReader {
  public let path: String
  public let ignoreDataErrors: Bool
  /// Records skipped because of data errors (only with `ignoreDataErrors`).
  public private(set) var skippedRecords = 0
  /// Descriptions of the skipped errors (first 100).
  public private(set) var skippedErrors: [String] = []
  /// Records returned so far.
  public private(set) var recordsRead = 0
  /// Byte offset of the next record in the (uncompressed) stream.
  public private(set) var offset: UInt64 = 0

  private let stream: ByteStream
  private let file: FileByteStream
  /// Bytes read from the file so far (compressed bytes for gzip; for progress).
  public var fileBytesRead: Int { file.bytesRead }
  private var buffer: UnsafeMutableRawPointer
  private let capacity = 1 << 20
  private var start = 0, end = 0
  private var ended = false
  private var dead = false
  /// Largest record accepted; a larger length is treated as corruption.
  public static let maxRecordBytes: UInt64 = 1 << 31

  public init(path: String, ignoreDataErrors: Bool = false) throws {
    self.path = path
    self.ignoreDataErrors = ignoreDataErrors
    file = try FileByteStream(path: path)
    stream = (path.hasSuffix(".gz") || FileByteStream.isGzip(path: path)) ? try GzipByteStream(file) : file
    buffer = .allocate(byteCount: capacity, alignment: 16)
  }

  deinit { buffer.deallocate() }

  /// Ensures `n` bytes are buffered; returns how many are available (< n at end of stream).
  private func fill(_ n: Int) throws -> Int {
    if end - start >= n { return end - start }
    if start > 0 {
      buffer.copyMemory(from: buffer + start, byteCount: end - start)
      end -= start
      start = 0
    }
    while end < n && !ended {
      let got = try stream.read(into: buffer + end, count: capacity - end)
      if got == 0 { ended = true } else { end += got }
    }
    return end - start
  }

  private func u32(at p: UnsafeRawPointer) -> UInt32 { UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) }

  private func fail(_ message: String, resumable: Bool) throws -> Bool {
    guard ignoreDataErrors else { throw DataError(message + "; set ignore_data_errors: true to skip bad records") }
    skippedRecords += 1
    if skippedErrors.count < 100 { skippedErrors.append(message) }
    if !resumable { dead = true }
    return resumable
  }

  /// The next record's bytes, or nil at the end of the file.
  public func next() throws -> [UInt8]? {
    while !dead {
      let at = offset
      let have = try fill(12)
      if have == 0 { return nil }
      if have < 12 {
        if try !fail("\(path): truncated record header at byte offset \(at) (\(have) of 12 bytes)", resumable: false) { return nil }
      }
      let header = UnsafeRawPointer(buffer + start)
      let length = UInt64(littleEndian: header.loadUnaligned(as: UInt64.self))
      let lengthCRC = u32(at: header + 8)
      let expected = CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(start: header, count: 8)))
      guard lengthCRC == expected, length <= TFRecordReader.maxRecordBytes else {
        _ = try fail("\(path): corrupted record length at byte offset \(at) (length CRC mismatch or length \(length) too large)", resumable: false)
        return nil
      }
      let n = Int(length)
      let total = 12 + n + 4
      if total > capacity {
        return try readLarge(length: n, at: at)
      }
      let got = try fill(total)
      if got < total {
        _ = try fail("\(path): truncated record at byte offset \(at): expected \(n) data bytes + 4 CRC bytes, file ends after \(max(got - 12, 0))", resumable: false)
        return nil
      }
      let data = UnsafeRawPointer(buffer + start + 12)
      let dataCRC = u32(at: data + n)
      start += total
      offset += UInt64(total)
      if dataCRC != CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(start: data, count: n))) {
        if try fail("\(path): data CRC mismatch in record at byte offset \(at) (\(n) bytes)", resumable: true) { continue }
      }
      recordsRead += 1
      return Array(UnsafeRawBufferPointer(start: data, count: n))
    }
    return nil
  }

  /// A record larger than the buffer: read it straight into its own array.
  private func readLarge(length n: Int, at: UInt64) throws -> [UInt8]? {
    start += 12
    var record = [UInt8](repeating: 0, count: n + 4)
    var copied = min(end - start, n + 4)
    record.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: buffer + start, byteCount: copied) }
    start += copied
    if copied < n + 4 {
      copied += try record.withUnsafeMutableBytes { try stream.readFully(into: $0.baseAddress! + copied, count: n + 4 - copied) }
    }
    guard copied == n + 4 else {
      _ = try fail("\(path): truncated record at byte offset \(at): expected \(n) data bytes + 4 CRC bytes", resumable: false)
      return nil
    }
    offset += UInt64(12 + n + 4)
    let crc = record.withUnsafeBytes { u32(at: $0.baseAddress! + n) }
    record.removeLast(4)
    if crc != record.withUnsafeBytes({ CRC32C.masked(CRC32C.checksum($0)) }) {
      if try fail("\(path): data CRC mismatch in record at byte offset \(at) (\(n) bytes)", resumable: true) { return try next() }
    }
    recordsRead += 1
    return record
  }
}
