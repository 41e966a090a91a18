import Foundation

/// A strict JSON (RFC 8259) parser over UTF-8 bytes that reports where input goes wrong:
/// a `JSONParseError` carries the byte offset, line and column of the first offending
/// byte. Nesting is limited to `maxDepth` levels, so no input can exhaust the stack.
///
///     let value = try JSONReader.parse(Array(#"{"k": [1, 2.5]}"#.utf8))
///
/// Numbers follow the JSON grammar exactly (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`)
/// and are converted with `strtod`; strings must be valid UTF-8 without raw control
/// characters, `\u` escapes may form surrogate pairs.
public struct JSONReader {
  public static let maxDepth = 64

  private let bytes: [UInt8]
  private var i = 0

  private init(_ bytes: [UInt8]) {
    // A trailing NUL lets strtod stop at the end of the buffer.
    self.bytes = bytes + [0]
  }

  public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
    var reader = JSONReader(bytes)
    let count = bytes.count
    reader.skipWhitespace()
    let value = try reader.value(depth: 0)
    reader.skipWhitespace()
    guard reader.i == count else { throw reader.error("unexpected \(reader.describe(reader.i)) after the JSON value") }
    return value
  }

  private var end: Int { bytes.count - 1 }

  private func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
    let at = offset ?? i
    var line = 1, column = 1
    for b in bytes[0..<min(at, end)] {
      if b == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
    }
    return JSONParseError(offset: at, line: line, column: column, message: message)
  }

  private func describe(_ at: Int) -> String {
    guard at < end else { return "end of input" }
    let b = bytes[at]
    if b >= 0x20 && b < 0x7f { return "character '\(Character(Unicode.Scalar(b)))'" }
    return String(format: "byte 0x%02x", b)
  }

  private mutating func skipWhitespace() {
    while i < end {
      let b = bytes[i]
      guard b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09 else { return }
      i += 1
    }
  }

  private mutating func expectLiteral(_ word: String, _ value: JSONValue) throws -> JSONValue {
    let start = i
    for c in word.utf8 {
      guard i < end, bytes[i] == c else { throw error("invalid literal (expected \(word))", at: start) }
      i += 1
    }
    return value
  }

  private mutating func value(depth: Int) throws -> JSONValue {
    guard i < end else { throw error("unexpected end of input, expected a value") }
    switch bytes[i] {
    case UInt8(ascii: "{"): return try object(depth: depth + 1)
    case UInt8(ascii: "["): return try array(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try expectLiteral("true", .bool(true))
    case UInt8(ascii: "f"): return try expectLiteral("false", .bool(false))
    case UInt8(ascii: "n"): return try expectLiteral("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let (d, exact) = try number()
      return .number(d, exact)
    default: throw error("unexpected \(describe(i)), expected a value")
    }
  }

  private mutating func object(depth: Int) throws -> JSONValue {
    guard depth <= JSONReader.maxDepth else { throw error("nesting deeper than \(JSONReader.maxDepth) levels") }
    i += 1
    var members: [(String, JSONValue)] = []
    var seen = Set<String>()
    skipWhitespace()
    if i < end && bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
    while true {
      skipWhitespace()
      guard i < end, bytes[i] == UInt8(ascii: "\"") else { throw error("unexpected \(describe(i)), expected a member name in quotes") }
      let nameStart = i
      let name = try string()
      guard seen.insert(name).inserted else { throw error("duplicate member name \"\(name)\"", at: nameStart) }
      skipWhitespace()
      guard i < end, bytes[i] == UInt8(ascii: ":") else { throw error("unexpected \(describe(i)), expected ':' after member name") }
      i += 1
      skipWhitespace()
      members.append((name, try value(depth: depth)))
      skipWhitespace()
      guard i < end else { throw error("unexpected end of input, expected ',' or '}'") }
      if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
      if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
      throw error("unexpected \(describe(i)), expected ',' or '}'")
    }
  }

  private mutating func array(depth: Int) throws -> JSONValue {
    guard depth <= JSONReader.maxDepth else { throw error("nesting deeper than \(JSONReader.maxDepth) levels") }
    i += 1
    skipWhitespace()
    if i < end && bytes[i] == UInt8(ascii: "]") { i += 1; return .numbers([]) }
    // Fast path: an array of numbers only (feature vectors).
    var numbers: [Double] = []
    var items: [JSONValue]? = nil
    while true {
      skipWhitespace()
      guard i < end else { throw error("unexpected end of input, expected a value") }
      let b = bytes[i]
      if items == nil, b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) {
        let (d, exact) = try number()
        if let exact, exact.magnitude > 1 << 53 {
          items = numbers.map { .number($0, nil) } + [.number(d, exact)]
        } else {
          numbers.append(d)
        }
      } else {
        if items == nil { items = numbers.map { .number($0, Int64(exactly: $0)) } }
        items!.append(try value(depth: depth))
      }
      skipWhitespace()
      guard i < end else { throw error("unexpected end of input, expected ',' or ']'") }
      if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
      if bytes[i] == UInt8(ascii: "]") { i += 1; return items.map { .array($0) } ?? .numbers(numbers) }
      throw error("unexpected \(describe(i)), expected ',' or ']'")
    }
  }

  private func isDigit(_ at: Int) -> Bool { at < end && bytes[at] >= UInt8(ascii: "0") && bytes[at] <= UInt8(ascii: "9") }

  private mutating func number() throws -> (Double, Int64?) {
    let start = i
    var j = i
    if bytes[j] == UInt8(ascii: "-") { j += 1 }
    guard isDigit(j) else { throw error("invalid number: expected a digit", at: j) }
    if bytes[j] == UInt8(ascii: "0") {
      j += 1
      if isDigit(j) { throw error("invalid number: leading zero", at: start) }
    } else {
      while isDigit(j) { j += 1 }
    }
    var integral = true
    if j < end && bytes[j] == UInt8(ascii: ".") {
      integral = false
      j += 1
      guard isDigit(j) else { throw error("invalid number: expected a digit after '.'", at: j) }
      while isDigit(j) { j += 1 }
    }
    if j < end && (bytes[j] == UInt8(ascii: "e") || bytes[j] == UInt8(ascii: "E")) {
      integral = false
      j += 1
      if j < end && (bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-")) { j += 1 }
      guard isDigit(j) else { throw error("invalid number: expected a digit in the exponent", at: j) }
      while isDigit(j) { j += 1 }
    }
    let d: Double = bytes.withUnsafeBufferPointer { p in
      p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { strtod($0 + start, nil) }
    }
    var exact: Int64? = nil
    if integral {
      // The exact integer when it fits in Int64 (ids beyond 2^53 stay exact).
      let negative = bytes[start] == UInt8(ascii: "-")
      var magnitude: UInt64 = 0
      var fits = true
      for k in (negative ? start + 1 : start)..<j {
        let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(bytes[k] - UInt8(ascii: "0")))
        if o1 || o2 { fits = false; break }
        magnitude = a
      }
      if fits {
        if negative { exact = magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
        else { exact = magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil }
      }
    }
    i = j
    return (d, exact)
  }

  private mutating func hex4() throws -> UInt32 {
    var v: UInt32 = 0
    for _ in 0..<4 {
      guard i < end else { throw error("unexpected end of input in a \\u escape") }
      let b = bytes[i]
      let digit: UInt32
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
      default: throw error("invalid \\u escape: \(describe(i)) is not a hex digit")
      }
      v = v * 16 + digit
      i += 1
    }
    return v
  }

  /// Skips, 8 bytes at a time, the bytes from `i` that need no attention in a string (no
  /// quote, backslash or control character), leaving `i` at the first word that has one.
  private mutating func skipPlainStringBytes() {
    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
    bytes.withUnsafeBytes { p in
      var j = i
      while j + 8 <= end {
        let w = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: j, as: UInt64.self))
        let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
        // A zero byte in quote/backslash, or a byte below 0x20 in w, sets its high bit here.
        let flags = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (w &- ones &* 0x20) & ~w) & highs
        if flags != 0 { break }
        j += 8
      }
      i = j
    }
  }

  private mutating func string() throws -> String {
    let open = i
    i += 1
    var out: [UInt8] = []
    var runStart = i
    while true {
      skipPlainStringBytes()
      guard i < end else { throw error("unterminated string (opened at byte \(open))") }
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        if out.isEmpty {
          // No escapes: the string is the bytes between the quotes.
          let text = bytes[runStart..<i]
          i += 1
          guard let s = String(validating: text, as: UTF8.self) else { throw error("invalid UTF-8 in the string opened here", at: open) }
          return s
        }
        out += bytes[runStart..<i]
        i += 1
        break
      }
      if b < 0x20 { throw error("raw control character \(String(format: "0x%02x", b)) in a string; escape it") }
      if b != UInt8(ascii: "\\") { i += 1; continue }
      out += bytes[runStart..<i]
      i += 1
      guard i < end else { throw error("unterminated escape in a string") }
      let e = bytes[i]
      i += 1
      switch e {
      case UInt8(ascii: "\""): out.append(0x22)
      case UInt8(ascii: "\\"): out.append(0x5c)
      case UInt8(ascii: "/"): out.append(0x2f)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0c)
      case UInt8(ascii: "n"): out.append(0x0a)
      case UInt8(ascii: "r"): out.append(0x0d)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        let escapeStart = i - 2
        var scalar = try hex4()
        if scalar >= 0xD800 && scalar < 0xDC00 {
          guard i + 1 < end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
            throw error("unpaired high surrogate in a \\u escape", at: escapeStart)
          }
          i += 2
          let low = try hex4()
          guard low >= 0xDC00 && low < 0xE000 else { throw error("invalid low surrogate in a \\u escape", at: escapeStart) }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if scalar >= 0xDC00 && scalar < 0xE000 {
          throw error("unpaired low surrogate in a \\u escape", at: escapeStart)
        }
        out += Array(String(Character(Unicode.Scalar(scalar)!)).utf8)
      default:
        throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string", at: i - 2)
      }
      runStart = i
    }
    guard let s = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8 in the string opened here", at: open) }
    return s
  }
}

/// Where and why a JSON body does not parse: byte `offset` (0-based), `line` and
/// `column` (1-based), and the problem.
public struct JSONParseError: Error, CustomStringConvertible, Equatable {
  public let offset: Int
  public let line: Int
  public let column: Int
  public let message: String
  public var description: String { "malformed JSON at byte \(offset) (line \(line), column \(column)): \(message)" }
}
