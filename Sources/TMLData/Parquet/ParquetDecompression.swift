import CZlib
#if canImport(CSnappy)
import CSnappy
#endif
#if canImport(CZstd)
import CZstd
#endif

/// Page decompression for Parquet's codecs UNCOMPRESSED, SNAPPY (raw snappy
/// blocks, snappy-c), GZIP (RFC 1952, zlib `inflate`; a zlib header is accepted
/// too) and ZSTD (zstd frames, `ZSTD_decompress`). The page header's
/// uncompressed size is checked against what the codec produces; a mismatch
/// or a codec error is a `ParquetDecodeError`.
enum ParquetDecompression {
  /// Largest page accepted, so a corrupt size cannot trigger a huge allocation.
  static let maxPageBytes = 1 << 30

  /// Whether this build can decode pages written with `codec`.
  static func isSupported(_ codec: ParquetCodec) -> Bool {
    switch codec {
    case .uncompressed, .gzip: return true
    case .snappy:
      #if canImport(CSnappy)
      return true
      #else
      return false
      #endif
    case .zstd:
      #if canImport(CZstd)
      return true
      #else
      return false
      #endif
    default: return false
    }
  }

  static func unsupported(_ codec: ParquetCodec) -> ParquetDecodeError {
    if codec == .snappy || codec == .zstd {
      return ParquetDecodeError(
        "codec \(codec) is not compiled into this build",
        hint: "build TMLData with its CSnappy and CZstd dependencies (libsnappy-dev, libzstd-dev; see scripts/install-deps.sh)")
    }
    return ParquetDecodeError(
      "codec \(codec) is not supported",
      hint: "re-write the file with compression UNCOMPRESSED, SNAPPY, GZIP or ZSTD")
  }

  /// Decompresses `bytes[range]` into exactly `size` bytes.
  static func decompress(_ codec: ParquetCodec, _ bytes: [UInt8], _ range: Range<Int>, size: Int) throws -> [UInt8] {
    guard size >= 0, size <= maxPageBytes else {
      throw ParquetDecodeError("uncompressed page size \(size) is outside 0...\(maxPageBytes)")
    }
    guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
      throw ParquetDecodeError("compressed page runs past the end of the column chunk")
    }
    switch codec {
    case .uncompressed:
      guard range.count == size else {
        throw ParquetDecodeError("uncompressed page is \(range.count) bytes but its header says \(size)")
      }
      return Array(bytes[range])
    case .gzip: return try gunzip(bytes, range, size: size)
    case .snappy:
      #if canImport(CSnappy)
      return try unsnappy(bytes, range, size: size)
      #else
      throw unsupported(codec)
      #endif
    case .zstd:
      #if canImport(CZstd)
      return try unzstd(bytes, range, size: size)
      #else
      throw unsupported(codec)
      #endif
    default: throw unsupported(codec)
    }
  }

  private static func gunzip(_ bytes: [UInt8], _ range: Range<Int>, size: Int) throws -> [UInt8] {
    // Deflate expands at most ~1032:1; a larger claim is corruption.
    guard size <= range.count * 1100 + 4096 else {
      throw ParquetDecodeError("GZIP page of \(range.count) bytes claims \(size) uncompressed bytes")
    }
    var out = [UInt8](repeating: 0, count: max(size, 1))  // zlib rejects a nil output pointer
    var stream = z_stream()
    guard swifttml_inflate_init2(&stream, 15 + 32) == Z_OK else { throw ParquetDecodeError("cannot start zlib inflate") }
    defer { inflateEnd(&stream) }
    var produced = 0
    var rc: Int32 = Z_OK
    try bytes.withUnsafeBufferPointer { input in
      try out.withUnsafeMutableBufferPointer { output in
        guard let inBase = input.baseAddress else { throw ParquetDecodeError("empty GZIP page") }
        stream.next_in = UnsafeMutablePointer(mutating: inBase + range.lowerBound)
        stream.avail_in = UInt32(range.count)
        // Data beyond `size` leaves inflate short of Z_STREAM_END, which is reported below.
        stream.next_out = output.baseAddress
        stream.avail_out = UInt32(size)
        while true {
          rc = inflate(&stream, Z_FINISH)
          if rc == Z_STREAM_END && stream.avail_in > 0 && stream.avail_out > 0 {
            // Concatenated gzip members.
            guard inflateReset(&stream) == Z_OK else { break }
            continue
          }
          break
        }
        produced = size - Int(stream.avail_out)
      }
    }
    guard rc == Z_STREAM_END else {
      let msg = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
      throw ParquetDecodeError("GZIP page does not inflate to its stated size of \(size) bytes (\(msg), got \(produced))")
    }
    guard produced == size else {
      throw ParquetDecodeError("GZIP page inflates to \(produced) bytes but its header says \(size)")
    }
    return size == 0 ? [] : out
  }

  #if canImport(CSnappy)
  private static func unsnappy(_ bytes: [UInt8], _ range: Range<Int>, size: Int) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: size)
    let status: snappy_status = try bytes.withUnsafeBufferPointer { input in
      guard let inBase = input.baseAddress else { throw ParquetDecodeError("empty SNAPPY page") }
      let src = UnsafeRawPointer(inBase + range.lowerBound).assumingMemoryBound(to: CChar.self)
      var stated = 0
      guard snappy_uncompressed_length(src, range.count, &stated) == SNAPPY_OK else {
        throw ParquetDecodeError("SNAPPY page has a corrupt length header")
      }
      guard stated == size else {
        throw ParquetDecodeError("SNAPPY page decompresses to \(stated) bytes but its header says \(size)")
      }
      if size == 0 { return SNAPPY_OK }
      return out.withUnsafeMutableBufferPointer { output in
        guard let outBase = output.baseAddress else { return SNAPPY_INVALID_INPUT }
        var outLength = size
        let dst = UnsafeMutableRawPointer(outBase).assumingMemoryBound(to: CChar.self)
        return snappy_uncompress(src, range.count, dst, &outLength)
      }
    }
    guard status == SNAPPY_OK else { throw ParquetDecodeError("SNAPPY page is corrupt (snappy status \(status.rawValue))") }
    return out
  }
  #endif

  #if canImport(CZstd)
  private static func unzstd(_ bytes: [UInt8], _ range: Range<Int>, size: Int) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: max(size, 1))
    let result: Int = try bytes.withUnsafeBufferPointer { input in
      guard let inBase = input.baseAddress else { throw ParquetDecodeError("empty ZSTD page") }
      let src = UnsafeRawPointer(inBase + range.lowerBound)
      let stated = ZSTD_getFrameContentSize(src, range.count)
      // ZSTD_CONTENTSIZE_UNKNOWN = 2^64-1, ZSTD_CONTENTSIZE_ERROR = 2^64-2.
      if stated == UInt64.max - 1 { throw ParquetDecodeError("ZSTD page does not start with a zstd frame") }
      if stated != UInt64.max, stated != UInt64(size) {
        throw ParquetDecodeError("ZSTD page decompresses to \(stated) bytes but its header says \(size)")
      }
      return out.withUnsafeMutableBytes { output in
        guard let outBase = output.baseAddress else { return 0 }
        return ZSTD_decompress(outBase, size, src, range.count)
      }
    }
    if ZSTD_isError(result) != 0 {
      let name = ZSTD_getErrorName(result).map { String(cString: $0) } ?? "unknown error"
      throw ParquetDecodeError("ZSTD page is corrupt (\(name))")
    }
    guard result == size else {
      throw ParquetDecodeError("ZSTD page decompresses to \(result) bytes but its header says \(size)")
    }
    if size == 0 { return [] }
    return out
  }
  #endif
}
