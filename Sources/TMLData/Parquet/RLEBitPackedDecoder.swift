/// Parquet's RLE / bit-packing hybrid encoding (used for definition levels,
/// dictionary indices and RLE booleans):
///
///     run := header (ULEB128)
///            header & 1 == 0: repeated run — (header >> 1) copies of one value
///                             stored in ceil(bitWidth / 8) little-endian bytes
///            header & 1 == 1: bit-packed run — (header >> 1) groups of 8 values,
///                             bitWidth * groups bytes, values packed LSB first
///
/// (https://parquet.apache.org/docs/file-format/data-pages/encodings/#RLE).
/// Runs may span `decode` calls. A final bit-packed run may be shorter than its
/// header claims as long as the values actually requested are present; every
/// byte read is bounds-checked.
struct RLEBitPackedDecoder {
  private var cursor: ParquetByteCursor
  let bitWidth: Int
  private let what: String
  /// Values left in the current run.
  private var runLeft = 0
  private var runIsRepeat = false
  private var repeatValue: UInt32 = 0
  /// Bit-packed run: byte index of its start, its (clamped) end, and the bit offset of the next value.
  private var packedStart = 0
  private var packedEnd = 0
  private var packedBit = 0

  init(_ cursor: ParquetByteCursor, bitWidth: Int, what: String) throws {
    guard (0...32).contains(bitWidth) else {
      throw ParquetDecodeError("\(what): bit width \(bitWidth) is outside 0...32")
    }
    self.cursor = cursor
    self.bitWidth = bitWidth
    self.what = what
  }

  /// Decodes `count` values and appends them to `out`.
  mutating func decode(count: Int, into out: inout [UInt32]) throws {
    // Capped: `count` comes from a page header, and runs are bounds-checked as they are read.
    out.reserveCapacity(out.count + min(count, 1 << 20))
    var left = count
    while left > 0 {
      if runLeft == 0 { try nextRun() }
      let n = min(left, runLeft)
      if runIsRepeat {
        out.append(contentsOf: repeatElement(repeatValue, count: n))
      } else {
        try unpack(n, into: &out)
      }
      runLeft -= n
      left -= n
    }
  }

  private mutating func nextRun() throws {
    guard cursor.remaining > 0 else {
      throw ParquetDecodeError("\(what): RLE/bit-packed data ends before all values were decoded")
    }
    let header = try cursor.readVarint(what)
    if header & 1 == 0 {
      let n = header >> 1
      guard n > 0, n <= UInt64(Int32.max) else { throw ParquetDecodeError("\(what): RLE run length \(n) is invalid") }
      var v: UInt32 = 0
      for i in 0..<((bitWidth + 7) / 8) { v |= UInt32(try cursor.readByte()) << (8 * UInt32(i)) }
      runIsRepeat = true
      repeatValue = v
      runLeft = Int(n)
    } else {
      let groups = header >> 1
      guard groups > 0, groups <= UInt64(Int32.max / 8) else {
        throw ParquetDecodeError("\(what): bit-packed run of \(groups) groups is invalid")
      }
      runIsRepeat = false
      runLeft = Int(groups) * 8
      packedStart = cursor.position
      packedBit = 0
      let bytes = Int(groups) * bitWidth
      let available = min(bytes, cursor.remaining)
      packedEnd = packedStart + available
      _ = try cursor.take(available, what)
    }
  }

  private mutating func unpack(_ n: Int, into out: inout [UInt32]) throws {
    if bitWidth == 0 {
      out.append(contentsOf: repeatElement(0, count: n))
      return
    }
    let lastBit = packedBit + n * bitWidth  // one past the last bit needed
    guard packedStart + (lastBit + 7) / 8 <= packedEnd else {
      throw ParquetDecodeError("\(what): bit-packed run is truncated (needs \((lastBit + 7) / 8) bytes, has \(packedEnd - packedStart))")
    }
    let mask: UInt64 = (1 << UInt64(bitWidth)) - 1
    let width = bitWidth
    let start = packedStart
    let end = packedEnd
    var bit = packedBit
    cursor.bytes.withUnsafeBufferPointer { buf in
      // Non-empty: the guard above proved at least one byte is in range.
      guard let address = buf.baseAddress else { return }
      let base = UnsafeRawPointer(address)
      for _ in 0..<n {
        let byte = start + (bit >> 3)
        let shift = UInt64(bit & 7)
        var word: UInt64
        if byte + 8 <= end {
          word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: byte, as: UInt64.self))
        } else {
          word = 0
          var i = 0
          while byte + i < end && i < 8 {
            word |= UInt64(buf[byte + i]) << (8 * UInt64(i))
            i += 1
          }
        }
        out.append(UInt32(truncatingIfNeeded: (word >> shift) & mask))
        bit += width
      }
    }
    packedBit = bit
  }
}
