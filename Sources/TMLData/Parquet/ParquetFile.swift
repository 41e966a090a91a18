/// A reader for Apache Parquet files with flat schemas
/// (https://parquet.apache.org/docs/file-format/):
///
///     "PAR1" | column chunks (pages) … | FileMetaData (Thrift compact) | u32 LE footer length | "PAR1"
///
/// Supported: physical types BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY;
/// encodings PLAIN, RLE / bit-packed hybrid (definition levels, dictionary
/// indices, booleans), PLAIN_DICTIONARY / RLE_DICTIONARY; data pages v1 and v2;
/// codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD; required and optional top-level
/// columns; any number of row groups and pages. Nested (group) and repeated
/// columns are listed in `unsupportedColumns` and reading one is an error naming
/// it; the file's flat columns stay readable.
///
/// Opening reads only the footer; each `readColumn` reads one column chunk with
/// one positional read, so instances can be shared across threads.
///
///     let file = try ParquetFile(path: "edges.parquet")
///     let lhs = try file.readInt64Column("lhs")          // all row groups, INT32 widened
///     let names = try file.readColumn("name", rowGroup: 0).strings
public final class ParquetFile: @unchecked Sendable {
  public let path: String
  /// The readable (flat, top-level) columns, in file order.
  public let schema: [ParquetColumn]
  /// Top-level columns this reader cannot decode (nested or repeated), with the reason.
  public let unsupportedColumns: [(name: String, reason: String)]
  /// Total rows over all row groups.
  public let rowCount: Int
  /// Rows in each row group.
  public let rowGroupRowCounts: [Int]
  /// The writer's `created_by` string, if any (e.g. "parquet-cpp-arrow version 17.0.0").
  public let createdBy: String?

  public var rowGroupCount: Int { rowGroupRowCounts.count }

  private let file: RandomAccessFile
  private let metadata: ParquetFileMetaData
  private let footerStart: Int

  static let magic: [UInt8] = Array("PAR1".utf8)

  public init(path: String) throws {
    self.path = path
    file = try RandomAccessFile(path: path)
    let size = file.size
    guard size >= 12 else {
      throw DataError("\(path): \(size) bytes is too small for a Parquet file (at least 12: PAR1, footer, length, PAR1); the file is truncated or not Parquet")
    }
    let head = try file.read(offset: 0, count: 4)
    guard head == Self.magic else {
      throw DataError("\(path): does not start with the Parquet magic PAR1 (found \(Self.hex(head)) at byte offset 0); this is not a Parquet file")
    }
    let tail = try file.read(offset: size - 8, count: 8)
    guard Array(tail[4..<8]) == Self.magic else {
      let hint = Array(tail[4..<8]) == Array("PARE".utf8)
        ? "the footer is encrypted, which is not supported; write the file without encryption"
        : "the file is truncated or still being written — re-copy it"
      throw DataError("\(path): does not end with the Parquet magic PAR1 (found \(Self.hex(Array(tail[4..<8]))) at byte offset \(size - 4)); \(hint)")
    }
    let footerLength = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
    guard footerLength <= size - 12 else {
      throw DataError("\(path): footer length \(footerLength) (at byte offset \(size - 8)) is larger than the file allows (\(size - 12) bytes); the file is truncated or corrupt — re-copy it")
    }
    footerStart = size - 8 - footerLength
    let footer = try file.read(offset: footerStart, count: footerLength)
    var reader = ThriftCompactReader(bytes: footer, baseOffset: footerStart, context: "\(path): footer")
    metadata = try ParquetFileMetaData(&reader)
    createdBy = metadata.createdBy

    let (columns, unsupported, leafCount) = try Self.flattenSchema(metadata.schema, path: path)
    schema = columns
    unsupportedColumns = unsupported

    var counts: [Int] = []
    var total = 0
    for (g, group) in metadata.rowGroups.enumerated() {
      guard group.columns.count == leafCount else {
        throw DataError("\(path): row group \(g) has \(group.columns.count) column chunks but the schema has \(leafCount) leaf columns; the footer is corrupt — re-write the file")
      }
      counts.append(Int(group.numRows))
      let (sum, overflow) = total.addingReportingOverflow(Int(group.numRows))
      guard !overflow else { throw DataError("\(path): row counts overflow; the footer is corrupt") }
      total = sum
    }
    guard Int64(total) == metadata.numRows else {
      throw DataError("\(path): footer says \(metadata.numRows) rows but its row groups hold \(total); the footer is corrupt — re-write the file")
    }
    rowGroupRowCounts = counts
    rowCount = total
  }

  /// Splits the depth-first schema list into flat columns and unsupported top-level fields.
  private static func flattenSchema(_ elements: [ParquetSchemaElement], path: String) throws
    -> (columns: [ParquetColumn], unsupported: [(name: String, reason: String)], leafCount: Int)
  {
    guard let root = elements.first else { throw DataError("\(path): footer has an empty schema; the file is corrupt") }
    var columns: [ParquetColumn] = []
    var unsupported: [(name: String, reason: String)] = []
    var index = 1, leaves = 0
    for _ in 0..<Int(root.numChildren) {
      guard index < elements.count else {
        throw DataError("\(path): schema root claims \(root.numChildren) fields but the footer lists fewer; the file is corrupt")
      }
      let e = elements[index]
      if e.numChildren > 0 {
        // Walk the whole subtree (iteratively, so garbage cannot overflow the stack).
        var pending = 1, subtreeLeaves = 0
        while pending > 0 {
          guard index < elements.count else { throw DataError("\(path): schema field '\(e.name)' has more children than the footer lists; the file is corrupt") }
          let child = elements[index]
          pending -= 1
          if child.numChildren > 0 { pending += Int(child.numChildren) } else { subtreeLeaves += 1 }
          guard pending <= elements.count - index else { throw DataError("\(path): schema field '\(e.name)' claims more children than the footer lists; the file is corrupt") }
          index += 1
        }
        leaves += subtreeLeaves
        unsupported.append((e.name, "nested group (struct, list or map)"))
        continue
      }
      index += 1
      defer { leaves += 1 }
      guard let type = e.type else {
        throw DataError("\(path): schema field '\(e.name)' has neither a type nor children; the file is corrupt")
      }
      let repetition = e.repetition.flatMap(ParquetRepetition.init(thrift:)) ?? .required
      if repetition == .repeated {
        unsupported.append((e.name, "repeated field"))
        continue
      }
      columns.append(ParquetColumn(
        name: e.name, physicalType: ParquetPhysicalType(thrift: type), isOptional: repetition == .optional,
        convertedType: e.convertedType, leafIndex: leaves))
    }
    return (columns, unsupported, leaves)
  }

  private static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { b in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined(separator: " ")
  }

  /// The flat column called `name`, or nil.
  public func column(named name: String) -> ParquetColumn? { schema.first { $0.name == name } }

  private func lookup(_ name: String) throws -> ParquetColumn {
    if let c = column(named: name) { return c }
    if let u = unsupportedColumns.first(where: { $0.name == name }) {
      throw DataError("\(path): column '\(name)' is a \(u.reason), which this reader does not support; only flat columns can be read — write '\(name)' flattened (one value per row) or read the other columns")
    }
    let names = schema.map { "'\($0.name)'" }.joined(separator: ", ")
    throw DataError("\(path): no column named '\(name)'; the file's columns are \(names.isEmpty ? "(none)" : names) — check the column name in the config")
  }

  private func checkRowGroup(_ rowGroup: Int) throws {
    guard rowGroup >= 0, rowGroup < rowGroupCount else {
      throw DataError("\(path): row group \(rowGroup) does not exist (the file has \(rowGroupCount))")
    }
  }

  /// Metadata of one column chunk, for diagnostics.
  public func columnChunkInfo(_ name: String, rowGroup: Int) throws -> (codec: ParquetCodec, encodings: [ParquetEncoding], compressedBytes: Int, byteOffset: Int) {
    let c = try lookup(name)
    try checkRowGroup(rowGroup)
    let r = try chunkReader(c, rowGroup)
    let range = try r.byteRange()
    return (ParquetCodec(thrift: r.chunk.codec), r.chunk.encodings.map(ParquetEncoding.init(thrift:)), range.count, range.lowerBound)
  }

  func chunkReader(_ c: ParquetColumn, _ rowGroup: Int) throws -> ParquetColumnChunkReader {
    let group = metadata.rowGroups[rowGroup]
    guard c.leafIndex < group.columns.count else {
      throw DataError("\(path): column '\(c.name)' has no chunk in row group \(rowGroup); the footer is corrupt")
    }
    let chunk = group.columns[c.leafIndex]
    if !chunk.pathInSchema.isEmpty && chunk.pathInSchema != [c.name] {
      throw DataError("\(path): row group \(rowGroup)'s chunk for column '\(c.name)' is labelled '\(chunk.pathInSchema.joined(separator: "."))'; the footer is corrupt")
    }
    return ParquetColumnChunkReader(file: file, column: c, chunk: chunk, rowGroup: rowGroup, rowGroupRows: rowGroupRowCounts[rowGroup], dataEnd: footerStart)
  }

  /// Reads one column of one row group.
  public func readColumn(_ name: String, rowGroup: Int) throws -> ParquetColumnValues {
    let c = try lookup(name)
    try checkRowGroup(rowGroup)
    return try chunkReader(c, rowGroup).read()
  }

  /// Reads one column over all row groups, concatenated.
  public func readColumn(_ name: String) throws -> ParquetColumnValues {
    let c = try lookup(name)
    guard rowGroupCount > 0 else {
      guard let empty = ParquetColumnValues.empty(c) else {
        throw DataError("\(path): column '\(name)' has physical type \(c.physicalType), which is not supported")
      }
      return empty
    }
    var all = try readColumn(name, rowGroup: 0)
    for g in 1..<rowGroupCount { all.append(try readColumn(name, rowGroup: g)) }
    return all
  }

  /// Reads an INT64 or INT32 column over all row groups as `[Int64]`, for edge
  /// lists (`lhs`, `rel`, `rhs`). A null value is an error naming its row.
  public func readInt64Column(_ name: String) throws -> [Int64] {
    let c = try lookup(name)
    guard c.physicalType == .int64 || c.physicalType == .int32 else {
      throw DataError("\(path): column '\(name)' is \(c.physicalType); an integer (INT64 or INT32) column is needed here — check the column name or cast it when writing")
    }
    var out: [Int64] = []
    out.reserveCapacity(min(rowCount, 1 << 26))  // a hint; rowCount comes from the footer
    var firstRow = 0
    for g in 0..<rowGroupCount {
      try appendInt64(try readColumn(name, rowGroup: g), rowGroup: g, firstRow: firstRow, to: &out)
      firstRow += rowGroupRowCounts[g]
    }
    return out
  }

  /// Reads an INT64 or INT32 column of one row group as `[Int64]`; nulls are errors.
  public func readInt64Column(_ name: String, rowGroup: Int) throws -> [Int64] {
    var out: [Int64] = []
    try checkRowGroup(rowGroup)
    let firstRow = rowGroupRowCounts[..<rowGroup].reduce(0, +)
    try appendInt64(try readColumn(name, rowGroup: rowGroup), rowGroup: rowGroup, firstRow: firstRow, to: &out)
    return out
  }

  private func appendInt64(_ values: ParquetColumnValues, rowGroup: Int, firstRow: Int, to out: inout [Int64]) throws {
    if let v = values.validity, v.nullCount > 0, let row = (0..<v.count).first(where: { !v.isValid($0) }) {
      throw DataError("\(path): column '\(values.column.name)' is null at row \(firstRow + row) (row group \(rowGroup), row \(row) within it); integer ID columns must not contain nulls — drop or fill those rows when writing the file")
    }
    switch values.storage {
    case .int64(let a): out.append(contentsOf: a)
    case .int32(let a): out.append(contentsOf: a.lazy.map { Int64($0) })
    default:
      throw DataError("\(path): column '\(values.column.name)' is \(values.column.physicalType); an integer (INT64 or INT32) column is needed here")
    }
  }
}
