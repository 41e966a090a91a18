import CZlib
import Foundation
import TMLIO

/// Streaming gzip decompression (zlib `inflate`, gzip or zlib header auto-detected,
/// concatenated members accepted) over another byte stream, in constant memory.
public final class GzipByteStream: ByteStream {
  public var path: String { source.path }
  private let source: ByteStream
  private var stream = z_stream()
  private var input: UnsafeMutablePointer<UInt8>
  private let inputCapacity = 1 << 18
  private var finished = false
  private var sourceEnded = false
  /// Compressed bytes consumed so far (for error positions).
  public private(set) var compressedOffset = 0

  public init(_ source: ByteStream) throws {
    self.source = source
    input = .allocate(capacity: inputCapacity)
    let rc = swifttml_inflate_init2(&stream, 15 + 32)
    guard rc == Z_OK else {
      input.deallocate()
      throw DataError("\(source.path): cannot start gzip decompression (zlib error \(rc))")
    }
  }

  deinit {
    inflateEnd(&stream)
    input.deallocate()
  }

  public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
    if finished || count == 0 { return 0 }
    stream.next_out = buffer.assumingMemoryBound(to: UInt8.self)
    stream.avail_out = UInt32(min(count, Int(UInt32.max)))
    while stream.avail_out > 0 {
      if stream.avail_in == 0 && !sourceEnded {
        let n = try source.read(into: input, count: inputCapacity)
        if n == 0 { sourceEnded = true } else {
          stream.next_in = input
          stream.avail_in = UInt32(n)
        }
      }
      if stream.avail_in == 0 && sourceEnded {
        let produced = count - Int(stream.avail_out)
        if produced == 0 && !finished {
          throw DataError("\(path): gzip stream ends early at compressed byte \(compressedOffset + 0) (file truncated); re-copy the file or set ignore_data_errors")
        }
        return produced
      }
      let before = stream.avail_in
      let rc = inflate(&stream, Z_NO_FLUSH)
      compressedOffset += Int(before - stream.avail_in)
      if rc == Z_STREAM_END {
        // Another gzip member may follow (concatenated files).
        if stream.avail_in > 0 || !sourceEnded {
          inflateReset(&stream)
          if stream.avail_in == 0 {
            let n = try source.read(into: input, count: inputCapacity)
            if n == 0 { sourceEnded = true; finished = true; break }
            stream.next_in = input
            stream.avail_in = UInt32(n)
          }
          continue
        }
        finished = true
        break
      }
      if rc != Z_OK && rc != Z_BUF_ERROR {
        let msg = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
        throw DataError("\(path): corrupt gzip data near compressed byte \(compressedOffset) (\(msg)); the file is damaged or not gzip")
      }
    }
    return count - Int(stream.avail_out)
  }
}

/// Streaming gzip compression to a file; a failed write (a full disk) throws a
/// `FileError` naming the file.
public final class GzipWriter {
  private var stream = z_stream()
  private let file: FileWriter
  private let path: String
  private var output = [UInt8](repeating: 0, count: 1 << 16)
  private var closed = false

  public init(path: String, level: Int32 = 6) throws {
    self.path = path
    file = try FileWriter(path: path)
    let rc = swifttml_deflate_init2(&stream, level, 15 + 16)
    guard rc == Z_OK else { throw DataError("\(path): cannot start gzip compression (zlib error \(rc))") }
  }

  deinit { if !closed { deflateEnd(&stream) } }

  public func write(_ bytes: UnsafeRawBufferPointer) throws { try pump(bytes, flush: Z_NO_FLUSH) }

  public func close() throws {
    guard !closed else { return }
    try pump(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
    deflateEnd(&stream)
    closed = true
    try file.close()
  }

  private func pump(_ bytes: UnsafeRawBufferPointer, flush: Int32) throws {
    stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
    stream.avail_in = UInt32(bytes.count)
    repeat {
      let rc: Int32 = output.withUnsafeMutableBufferPointer { out in
        stream.next_out = out.baseAddress
        stream.avail_out = UInt32(out.count)
        return deflate(&stream, flush)
      }
      guard rc != Z_STREAM_ERROR else { throw DataError("\(path): gzip compression failed") }
      let produced = output.count - Int(stream.avail_out)
      if produced > 0 { try output.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
      if flush == Z_FINISH && rc == Z_STREAM_END { break }
    } while stream.avail_out == 0 || (flush == Z_FINISH)
  }
}
