import Foundation
import TMLIO

/// A minimal Parquet writer for flat integer tables such as TwHIN edge lists
/// (https://parquet.apache.org/docs/file-format/):
///
///     "PAR1"
///     row group 0: column 0 pages, column 1 pages, …     page = PageHeader (Thrift) + PLAIN values
///     row group 1: …
///     FileMetaData (Thrift compact) | u32 LE footer length | "PAR1"
///
/// Columns are REQUIRED INT64 or INT32, PLAIN-encoded, UNCOMPRESSED, in data pages v1 of
/// at most `pageRows` values (no definition or repetition levels, as the columns are
/// required and flat). Each `write(rowGroup:)` call appends one row group, so any number
/// of rows streams through a bounded buffer. pyarrow, Spark and `ParquetFile` read it.
///
///     let w = try ParquetWriter(path: "edges.parquet", columns: [("lhs", .int64), ("rel", .int64), ("rhs", .int64)])
///     try w.write(rowGroup: [.int64(lhs), .int64(rel), .int64(rhs)])
///     try w.close()
public final class ParquetWriter {
  /// The physical type of a column.
  public enum ColumnType: Sendable {
    case int32, int64

    var thrift: Int32 { self == .int32 ? 1 : 2 }
    var width: Int { self == .int32 ? 4 : 8 }
  }

  /// One column's values for a row group.
  public enum ColumnValues: Sendable {
    case int32([Int32])
    case int64([Int64])

    var count: Int {
      switch self {
      case .int32(let v): return v.count
      case .int64(let v): return v.count
      }
    }
    var type: ColumnType {
      switch self {
      case .int32: return .int32
      case .int64: return .int64
      }
    }
  }

  struct ChunkMeta {
    var offset: Int
    var size: Int
    var values: Int
  }

  public let path: String
  public let columns: [(name: String, type: ColumnType)]
  public let pageRows: Int
  private let file: FileWriter
  private var position = 0
  private var rowGroups: [(rows: Int, chunks: [ChunkMeta])] = []
  private var closed = false

  /// Creates (or truncates) `path` and writes the leading magic.
  public init(path: String, columns: [(name: String, type: ColumnType)], pageRows: Int = 1 << 17) throws {
    guard !columns.isEmpty else { throw DataError("\(path): a Parquet file needs at least one column") }
    var names = Set<String>()
    for c in columns where c.name.isEmpty || !names.insert(c.name).inserted {
      throw DataError("\(path): column name '\(c.name)' is empty or repeated; give each column a unique name")
    }
    guard pageRows > 0 else { throw DataError("\(path): pageRows must be ≥ 1, got \(pageRows)") }
    self.path = path
    self.columns = columns
    self.pageRows = pageRows
    let url = URL(fileURLWithPath: path)
    do {
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    } catch {
      throw DataError("\(path): cannot create the directory for the file (\(FileError.reason(of: error)))")
    }
    file = try FileWriter(path: path)
    try emit(ParquetFile.magic)
  }

  deinit { if !closed { try? file.close() } }

  private func emit(_ bytes: [UInt8]) throws {
    try file.write(bytes)
    position += bytes.count
  }

  /// Appends one row group; `values` has one entry per column, all of the same length
  /// and of the column's type.
  public func write(rowGroup values: [ColumnValues]) throws {
    guard !closed else { throw DataError("\(path): the writer is closed") }
    guard values.count == columns.count else {
      throw DataError("\(path): a row group needs \(columns.count) columns (\(columns.map(\.name).joined(separator: ", "))), got \(values.count)")
    }
    let rows = values[0].count
    for (c, v) in zip(columns, values) {
      guard v.type == c.type else { throw DataError("\(path): column '\(c.name)' is \(c.type) but \(v.type) values were given") }
      guard v.count == rows else {
        throw DataError("\(path): column '\(c.name)' has \(v.count) values but '\(columns[0].name)' has \(rows); every column needs one value per row")
      }
    }
    var chunks: [ChunkMeta] = []
    for v in values {
      let start = position
      var first = 0
      repeat {  // one page per pageRows values (an empty row group still gets one empty page)
        let n = min(pageRows, rows - first)
        let body = Self.plain(v, first..<(first + n))
        var h = ThriftCompactWriter()
        h.structure { w in
          w.field(1, i32: 0)  // DATA_PAGE
          w.field(2, i32: Int32(body.count))
          w.field(3, i32: Int32(body.count))
          w.field(5, structure: { w in
            w.field(1, i32: Int32(n))
            w.field(2, i32: 0)  // PLAIN
            w.field(3, i32: 3)  // RLE (no levels are written for required columns)
            w.field(4, i32: 3)
          })
        }
        try emit(h.bytes)
        try emit(body)
        first += n
      } while first < rows
      chunks.append(ChunkMeta(offset: start, size: position - start, values: rows))
    }
    rowGroups.append((rows, chunks))
  }

  /// PLAIN encoding: little-endian fixed-width values.
  static func plain(_ v: ColumnValues, _ range: Range<Int>) -> [UInt8] {
    var out: [UInt8] = []
    switch v {
    case .int64(let a):
      out.reserveCapacity(range.count * 8)
      for i in range { withUnsafeBytes(of: a[i].littleEndian) { out.append(contentsOf: $0) } }
    case .int32(let a):
      out.reserveCapacity(range.count * 4)
      for i in range { withUnsafeBytes(of: a[i].littleEndian) { out.append(contentsOf: $0) } }
    }
    return out
  }

  /// Writes the footer and closes the file.
  public func close() throws {
    guard !closed else { return }
    closed = true
    var f = ThriftCompactWriter()
    let cols = columns
    let groups = rowGroups
    f.structure { w in
      w.field(1, i32: 1)
      w.field(2, listOf: .structure, count: cols.count + 1) { w in
        w.structure { w in
          w.field(4, string: "schema")
          w.field(5, i32: Int32(cols.count))
        }
        for c in cols {
          w.structure { w in
            w.field(1, i32: c.type.thrift)
            w.field(3, i32: 0)  // REQUIRED
            w.field(4, string: c.name)
          }
        }
      }
      w.field(3, i64: Int64(groups.reduce(0) { $0 + $1.rows }))
      w.field(4, listOf: .structure, count: groups.count) { w in
        for g in groups {
          w.structure { w in
            w.field(1, listOf: .structure, count: g.chunks.count) { w in
              for (c, chunk) in zip(cols, g.chunks) {
                w.structure { w in
                  w.field(2, i64: Int64(chunk.offset))
                  w.field(3, structure: { w in
                    w.field(1, i32: c.type.thrift)
                    w.field(2, listOf: .i32, count: 1) { $0.zigzag(0) }  // PLAIN
                    w.field(3, listOf: .binary, count: 1) { $0.binary(Array(c.name.utf8)) }
                    w.field(4, i32: 0)  // UNCOMPRESSED
                    w.field(5, i64: Int64(chunk.values))
                    w.field(6, i64: Int64(chunk.size))
                    w.field(7, i64: Int64(chunk.size))
                    w.field(9, i64: Int64(chunk.offset))
                  })
                }
              }
            }
            w.field(2, i64: Int64(g.chunks.reduce(0) { $0 + $1.size }))
            w.field(3, i64: Int64(g.rows))
          }
        }
      }
      w.field(6, string: "SwiftTML ParquetWriter")
    }
    let footer = f.bytes
    let n = UInt32(footer.count)
    try emit(footer + [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)] + ParquetFile.magic)
    try file.close()
  }

  /// Writes `columns` to `path` in row groups of at most `rowGroupRows` rows.
  public static func write(path: String, columns: [(name: String, values: ColumnValues)], rowGroupRows: Int = 1 << 20) throws {
    let w = try ParquetWriter(path: path, columns: columns.map { ($0.name, $0.values.type) })
    let rows = columns.first?.values.count ?? 0
    guard rowGroupRows > 0 else { throw DataError("\(path): rowGroupRows must be ≥ 1") }
    for c in columns where c.values.count != rows {
      throw DataError("\(path): column '\(c.name)' has \(c.values.count) values but '\(columns[0].name)' has \(rows); every column needs one value per row")
    }
    var start = 0
    repeat {
      let r = start..<min(start + rowGroupRows, rows)
      try w.write(rowGroup: columns.map { c in
        switch c.values {
        case .int32(let a): return .int32(Array(a[r]))
        case .int64(let a): return .int64(Array(a[r]))
        }
      })
      start = r.upperBound
    } while start < rows
    try w.close()
  }
}
