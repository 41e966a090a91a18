/// An edge list read from delimited text (CSV / TSV), e.g. the public
/// TwitterFollowGraph / TwitterFaveGraph files:
///
///     user_index, author_index, time_chunk      ← header line: column names
///     17,4242,3                                  ← one edge per line
///
/// The first non-empty line is the header; names are matched after trimming
/// spaces and surrounding double quotes (a UTF-8 byte-order mark is ignored).
/// Fields are separated by `delimiter` (default: tab if the header contains one,
/// else comma); a field may be double-quoted (`"a,b"`, with `""` for a quote),
/// but quoted fields cannot span lines. Empty lines and `\r\n` endings are fine.
/// The `lhs` and `rhs` columns (and the optional `relation` and `time` columns)
/// must hold base-10 integers fitting Int64; other columns are ignored. Files
/// ending in `.gz` or starting with the gzip magic are decompressed on the fly.
///
/// Errors name the file, the 1-based line number and the column.
public struct EdgeTable: Sendable {
  /// Which header names hold the edge fields.
  public struct Columns: Sendable {
    public var lhs: String
    public var rhs: String
    public var relation: String?
    public var time: String?
    public init(lhs: String = "lhs", rhs: String = "rhs", relation: String? = nil, time: String? = nil) {
      self.lhs = lhs
      self.rhs = rhs
      self.relation = relation
      self.time = time
    }
  }

  public var lhs: [Int64] = []
  public var rhs: [Int64] = []
  /// Present when `Columns.relation` was given.
  public var relation: [Int64]?
  /// Present when `Columns.time` was given.
  public var time: [Int64]?

  public var count: Int { lhs.count }

  init() {}

  /// Reads the whole file. `delimiter` must be a single ASCII character (nil: auto-detect).
  public init(path: String, columns: Columns = Columns(), delimiter: Character? = nil) throws {
    var delimiterByte: UInt8?
    if let d = delimiter {
      guard let a = d.asciiValue, d != "\"", d != "\n", d != "\r" else {
        throw DataError("\(path): delimiter '\(d)' must be a single ASCII character other than a quote or newline")
      }
      delimiterByte = a
    }
    let file = try FileByteStream(path: path)
    let stream: ByteStream = (path.hasSuffix(".gz") || FileByteStream.isGzip(path: path)) ? try GzipByteStream(file) : file
    var parser = EdgeTableParser(path: path, columns: columns, delimiter: delimiterByte)
    var pending: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = try chunk.withUnsafeMutableBytes { buf -> Int in
        guard let base = buf.baseAddress else { return 0 }
        return try stream.read(into: base, count: buf.count)
      }
      if n == 0 { break }
      pending.append(contentsOf: chunk[0..<n])
      // Parse every complete line; keep the partial last one.
      guard let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
      try parser.parseLines(pending, upTo: lastNewline + 1)
      pending.removeSubrange(0...lastNewline)
    }
    if !pending.isEmpty { try parser.parseLines(pending, upTo: pending.count) }
    guard parser.sawHeader else {
      throw DataError("\(path): the file is empty; expected a header line naming the columns \(columns.lhs) and \(columns.rhs)")
    }
    self = parser.table
  }
}

/// The line-by-line state of an `EdgeTable` read.
struct EdgeTableParser {
  let path: String
  let columns: EdgeTable.Columns
  var delimiter: UInt8?
  var table = EdgeTable()
  var line = 0
  var sawHeader = false
  /// For each wanted column (lhs, rhs, relation, time), its field index in a line.
  var fieldIndex: [Int] = []
  var names: [String] = []

  init(path: String, columns: EdgeTable.Columns, delimiter: UInt8?) {
    self.path = path
    self.columns = columns
    self.delimiter = delimiter
    if columns.relation != nil { table.relation = [] }
    if columns.time != nil { table.time = [] }
  }

  mutating func parseLines(_ bytes: [UInt8], upTo end: Int) throws {
    var start = 0
    while start < end {
      var stop = start
      while stop < end && bytes[stop] != UInt8(ascii: "\n") { stop += 1 }
      line += 1
      var lineEnd = stop
      if lineEnd > start && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
      if lineEnd > start { try parseLine(bytes[start..<lineEnd]) }
      start = stop + 1
    }
  }

  /// Splits a line into field ranges, honouring double quotes.
  private func split(_ text: ArraySlice<UInt8>, _ d: UInt8) throws -> [Range<Int>] {
    var fields: [Range<Int>] = []
    var fieldStart = text.startIndex
    var inQuotes = false
    var i = text.startIndex
    while i < text.endIndex {
      let c = text[i]
      if c == UInt8(ascii: "\"") {
        inQuotes.toggle()
      } else if c == d && !inQuotes {
        fields.append(fieldStart..<i)
        fieldStart = i + 1
      }
      i += 1
    }
    guard !inQuotes else {
      throw DataError("\(path): line \(line): unterminated double quote (quoted fields cannot span lines); fix the quoting")
    }
    fields.append(fieldStart..<text.endIndex)
    return fields
  }

  /// The field's text without surrounding spaces and quotes (`""` → `"`).
  private func fieldText(_ text: ArraySlice<UInt8>, _ r: Range<Int>) -> [UInt8] {
    var lo = r.lowerBound, hi = r.upperBound
    while lo < hi && text[lo] == UInt8(ascii: " ") { lo += 1 }
    while hi > lo && text[hi - 1] == UInt8(ascii: " ") { hi -= 1 }
    if hi - lo >= 2 && text[lo] == UInt8(ascii: "\"") && text[hi - 1] == UInt8(ascii: "\"") {
      var out: [UInt8] = []
      var i = lo + 1
      while i < hi - 1 {
        out.append(text[i])
        i += (text[i] == UInt8(ascii: "\"") && i + 1 < hi - 1 && text[i + 1] == UInt8(ascii: "\"")) ? 2 : 1
      }
      return out
    }
    return Array(text[lo..<hi])
  }

  private mutating func parseHeader(_ text: ArraySlice<UInt8>) throws {
    var text = text
    if text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
    let d = delimiter ?? (text.contains(UInt8(ascii: "\t")) ? UInt8(ascii: "\t") : UInt8(ascii: ","))
    delimiter = d
    names = try split(text, d).map { String(decoding: fieldText(text, $0), as: UTF8.self) }
    let wanted = [columns.lhs, columns.rhs] + [columns.relation, columns.time].compactMap { $0 }
    for name in wanted {
      guard let i = names.firstIndex(of: name) else {
        let have = names.map { "'\($0)'" }.joined(separator: ", ")
        throw DataError("\(path): line \(line) (header) has no column '\(name)'; its columns are \(have) — set the edge column names in the config to match (delimiter \(Self.show(d)))")
      }
      fieldIndex.append(i)
    }
    sawHeader = true
  }

  private static func show(_ d: UInt8) -> String {
    d == UInt8(ascii: "\t") ? "tab" : "'\(Character(Unicode.Scalar(d)))'"
  }

  private mutating func parseLine(_ text: ArraySlice<UInt8>) throws {
    guard sawHeader else { return try parseHeader(text) }
    guard let d = delimiter else { return }
    // The wanted fields, in `fieldIndex` order (a quote-aware split only when the line has a quote).
    var values: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0)
    var found = 0
    if !text.contains(UInt8(ascii: "\"")) {
      var field = 0, fieldStart = text.startIndex, i = text.startIndex
      while found < fieldIndex.count {
        if i == text.endIndex || text[i] == d {
          for (k, want) in fieldIndex.enumerated() where want == field {
            let v = try integer(text, fieldStart..<i, column: want)
            switch k {
            case 0: values.0 = v
            case 1: values.1 = v
            case 2: values.2 = v
            default: values.3 = v
            }
            found += 1
          }
          if i == text.endIndex { break }
          field += 1
          fieldStart = i + 1
        }
        i += 1
      }
      if found < fieldIndex.count { try missingField(field + 1, d) }
    } else {
      let fields = try split(text, d)
      for (k, want) in fieldIndex.enumerated() {
        guard want < fields.count else { try missingField(fields.count, d); return }
        let unquoted = fieldText(text, fields[want])
        let v = try integer(unquoted[...], unquoted.indices, column: want)
        switch k {
        case 0: values.0 = v
        case 1: values.1 = v
        case 2: values.2 = v
        default: values.3 = v
        }
      }
    }
    table.lhs.append(values.0)
    table.rhs.append(values.1)
    if columns.relation != nil { table.relation?.append(values.2) }
    if columns.time != nil { table.time?.append(columns.relation != nil ? values.3 : values.2) }
  }

  private func missingField(_ fieldCount: Int, _ d: UInt8) throws {
    let missing = fieldIndex.first { $0 >= fieldCount } ?? 0
    throw DataError("\(path): line \(line) has \(fieldCount) fields but column '\(names[missing])' is field \(missing + 1) of the header; the line is truncated or uses another delimiter than \(Self.show(d))")
  }

  /// The integer in `text[range]` (surrounding spaces allowed), or an error naming line and column.
  private func integer(_ text: ArraySlice<UInt8>, _ range: Range<Int>, column: Int) throws -> Int64 {
    var lo = range.lowerBound, hi = range.upperBound
    while lo < hi && text[lo] == UInt8(ascii: " ") { lo += 1 }
    while hi > lo && text[hi - 1] == UInt8(ascii: " ") { hi -= 1 }
    if let v = Self.parseInt64(text[lo..<hi]) { return v }
    let shown = String(decoding: text[lo..<hi].prefix(40), as: UTF8.self)
    throw DataError("\(path): line \(line), column '\(names[column])': '\(shown)' is not an integer (Int64); edge columns must hold integer IDs — fix or drop the line")
  }

  /// Base-10 Int64 with an optional sign; nil on anything else or on overflow.
  static func parseInt64(_ s: ArraySlice<UInt8>) -> Int64? {
    var i = s.startIndex
    var negative = false
    if i < s.endIndex && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) {
      negative = s[i] == UInt8(ascii: "-")
      i += 1
    }
    guard i < s.endIndex else { return nil }
    var v: Int64 = 0
    while i < s.endIndex {
      let c = s[i]
      guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
      let digit = Int64(c - UInt8(ascii: "0"))
      let (m, o1) = v.multipliedReportingOverflow(by: 10)
      let (a, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
      guard !o1 && !o2 else { return nil }
      v = a
      i += 1
    }
    return v
  }
}
