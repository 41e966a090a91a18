/// A decoding failure inside one Parquet page; the column reader adds the file,
/// column, row group, page and byte offset before it reaches the caller.
struct ParquetDecodeError: Error {
  let message: String
  /// What the user should do; nil means "the file is corrupt".
  let hint: String?
  init(_ message: String, hint: String? = nil) {
    self.message = message
    self.hint = hint
  }
}

/// A bounds-checked forward reader over a range of a byte array (a page body,
/// the level section of a page, …). Every read checks `end` and throws
/// `ParquetDecodeError` rather than reading past it.
struct ParquetByteCursor {
  let bytes: [UInt8]
  var position: Int
  let end: Int

  init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
    self.bytes = bytes
    let e = min(end ?? bytes.count, bytes.count)
    self.position = max(0, min(start, e))
    self.end = e
  }

  var remaining: Int { end - position }

  mutating func readByte() throws -> UInt8 {
    guard position < end else { throw ParquetDecodeError("unexpected end of page data") }
    defer { position += 1 }
    return bytes[position]
  }

  mutating func readUInt32LE(_ what: String) throws -> UInt32 {
    guard remaining >= 4 else {
      throw ParquetDecodeError("\(what): need 4 bytes, only \(remaining) left in the page")
    }
    let p = position
    position += 4
    return UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
  }

  mutating func readVarint(_ what: String) throws -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard position < end else { throw ParquetDecodeError("\(what): varint runs past the end of the page") }
      let b = bytes[position]
      position += 1
      guard shift < 64 else { throw ParquetDecodeError("\(what): varint longer than 10 bytes") }
      result |= UInt64(b & 0x7F) << shift
      if b & 0x80 == 0 { return result }
      shift += 7
    }
  }

  /// Consumes `n` bytes and returns their index range in `bytes`.
  mutating func take(_ n: Int, _ what: String) throws -> Range<Int> {
    guard n >= 0, n <= remaining else {
      throw ParquetDecodeError("\(what): need \(n) bytes, only \(remaining) left in the page")
    }
    let r = position..<(position + n)
    position += n
    return r
  }

  /// A cursor over the next `n` bytes; this cursor moves past them.
  mutating func sub(_ n: Int, _ what: String) throws -> ParquetByteCursor {
    let r = try take(n, what)
    return ParquetByteCursor(bytes, from: r.lowerBound, to: r.upperBound)
  }
}
