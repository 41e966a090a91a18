import Foundation
import TMLData

/// Named columns of a CSV / TSV file, as text fields, read line by line:
///
///     lhs,rel,rhs          ← header: column names (a UTF-8 BOM, spaces and double quotes are trimmed)
///     17,fav,4242          ← one record per line; empty lines and \r\n are fine
///
/// The delimiter is the format's (`,` for CSV, tab for TSV); a field may be wrapped in
/// double quotes (`"a,b"`, `""` for a quote) but cannot span lines. `.gz` files (or files
/// starting with the gzip magic) are decompressed on the fly. `body(line, fields)`
/// receives the 1-based line number and the wanted columns' fields, in `columns` order.
///
///     try DelimitedColumns.read(path: "edges.csv", delimiter: ",", columns: ["lhs", "rel", "rhs"]) { line, f in … }
enum DelimitedColumns {
  static func read(path: String, delimiter: UInt8, columns: [String],
                   _ body: (Int, [Substring]) throws -> Void) throws {
    let file = try FileByteStream(path: path)
    let stream: ByteStream = (path.hasSuffix(".gz") || FileByteStream.isGzip(path: path)) ? try GzipByteStream(file) : file
    var pending: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    var line = 0
    var indices: [Int]? = nil
    var names: [String] = []
    func handle(_ bytes: ArraySlice<UInt8>) throws {
      line += 1
      var text = bytes
      if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
      if line == 1 && text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
      guard !text.allSatisfy({ $0 == UInt8(ascii: " ") }) else { return }
      let fields = try split(String(decoding: text, as: UTF8.self), delimiter, path: path, line: line)
      guard let want = indices else {
        names = fields.map(String.init)
        var found: [Int] = []
        for c in columns {
          guard let i = names.firstIndex(of: c) else {
            let d = delimiter == UInt8(ascii: "\t") ? "tab" : "'\(Character(Unicode.Scalar(delimiter)))'"
            throw TwHINError("\(path): line \(line) (the header) has no column '\(c)'; its columns are \(names.map { "'\($0)'" }.joined(separator: ", ")) (split at \(d)) — set columns: {lhs, rel, rhs} in the data config to match, or fix the format")
          }
          found.append(i)
        }
        indices = found
        return
      }
      guard let last = want.max(), last < fields.count else {
        let missing = want.first { $0 >= fields.count } ?? 0
        throw TwHINError("\(path): line \(line) has \(fields.count) fields but column '\(names[missing])' is field \(missing + 1) of the header; the line is truncated or uses another delimiter")
      }
      try body(line, want.map { fields[$0] })
    }
    while true {
      let n = try chunk.withUnsafeMutableBytes { try stream.read(into: $0.baseAddress!, count: $0.count) }
      if n == 0 { break }
      pending.append(contentsOf: chunk[0..<n])
      var start = 0
      while let nl = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
        try handle(pending[start..<nl])
        start = nl + 1
      }
      pending.removeSubrange(0..<start)
    }
    if !pending.isEmpty { try handle(pending[...]) }
    guard indices != nil else {
      throw TwHINError("\(path): the file is empty; an edge file starts with a header line naming its columns (\(columns.joined(separator: ", ")))")
    }
  }

  /// The header's column names.
  static func header(path: String, delimiter: UInt8) throws -> [String] {
    let file = try FileByteStream(path: path)
    let stream: ByteStream = (path.hasSuffix(".gz") || FileByteStream.isGzip(path: path)) ? try GzipByteStream(file) : file
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var line = 0
    while true {
      while let nl = bytes.firstIndex(of: UInt8(ascii: "\n")) {
        line += 1
        var text = bytes[..<nl]
        if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
        if line == 1 && text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
        if !text.allSatisfy({ $0 == UInt8(ascii: " ") }) {
          return try split(String(decoding: text, as: UTF8.self), delimiter, path: path, line: line).map(String.init)
        }
        bytes.removeSubrange(...nl)
      }
      let n = try chunk.withUnsafeMutableBytes { try stream.read(into: $0.baseAddress!, count: $0.count) }
      if n == 0 { break }
      bytes.append(contentsOf: chunk[0..<n])
    }
    var text = bytes[...]
    if text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
    if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
    guard !text.allSatisfy({ $0 == UInt8(ascii: " ") }) else { throw TwHINError("\(path): the file is empty; expected a header line naming its columns") }
    return try split(String(decoding: text, as: UTF8.self), delimiter, path: path, line: line + 1).map(String.init)
  }

  /// Fields of one line, trimmed of spaces and surrounding double quotes.
  static func split(_ text: String, _ delimiter: UInt8, path: String, line: Int) throws -> [Substring] {
    let d = Character(Unicode.Scalar(delimiter))
    guard text.contains("\"") else { return text.split(separator: d, omittingEmptySubsequences: false).map(trim) }
    var fields: [Substring] = []
    var current = ""
    var quoted = false
    var i = text.startIndex
    while i < text.endIndex {
      let c = text[i]
      if c == "\"" {
        let next = text.index(after: i)
        if quoted && next < text.endIndex && text[next] == "\"" {
          current.append("\"")
          i = text.index(after: next)
          continue
        }
        quoted.toggle()
      } else if c == d && !quoted {
        fields.append(trim(Substring(current)))
        current = ""
      } else {
        current.append(c)
      }
      i = text.index(after: i)
    }
    guard !quoted else {
      throw TwHINError("\(path): line \(line): unterminated double quote (quoted fields cannot span lines); fix the quoting")
    }
    fields.append(trim(Substring(current)))
    return fields
  }

  static func trim(_ s: Substring) -> Substring {
    var t = s
    while t.first == " " { t = t.dropFirst() }
    while t.last == " " { t = t.dropLast() }
    return t
  }
}
