/// Decodes one column chunk (one flat column of one row group) of a Parquet file:
/// reads its byte range with one `pread`, then walks its pages —
///
///     PageHeader (Thrift compact) | page body (compressed_page_size bytes)
///
/// — a dictionary page (PLAIN values) first if present, then data pages:
/// v1 bodies are compressed as a whole and hold `u32 length | RLE definition
/// levels` (optional columns only) followed by the values; v2 bodies start with
/// the uncompressed definition levels (`definition_levels_byte_length` bytes, no
/// length prefix) followed by the values, compressed when `is_compressed`.
/// Values are PLAIN, dictionary indices (`bit width byte | RLE/bit-packed`), or for
/// BOOLEAN, RLE (`u32 length | RLE/bit-packed, width 1`). Index pages are skipped.
///
/// Every failure is a `DataError` naming the file, column, row group, page and byte offset.
struct ParquetColumnChunkReader {
  let file: RandomAccessFile
  let column: ParquetColumn
  let chunk: ParquetColumnChunkMetaData
  let rowGroup: Int
  let rowGroupRows: Int
  /// Byte offset where the footer starts; column data must lie before it.
  let dataEnd: Int

  private var prefix: String { "\(file.path): column '\(column.name)', row group \(rowGroup)" }

  private func fail(_ message: String, hint: String? = nil) -> DataError {
    DataError("\(prefix): \(message); \(hint ?? "the file is corrupt — re-copy it or re-write it")")
  }

  func read() throws -> ParquetColumnValues {
    switch column.physicalType {
    case .boolean: return try read(BooleanBuilder.self)
    case .int32: return try read(FixedWidthBuilder<Int32>.self)
    case .int64: return try read(FixedWidthBuilder<Int64>.self)
    case .float: return try read(FixedWidthBuilder<Float>.self)
    case .double: return try read(FixedWidthBuilder<Double>.self)
    case .byteArray: return try read(ByteArrayBuilder.self)
    default:
      throw fail(
        "physical type \(column.physicalType) is not supported",
        hint: "only BOOLEAN, INT32, INT64, FLOAT, DOUBLE and BYTE_ARRAY columns can be read; cast the column when writing the file")
    }
  }

  /// The chunk's byte range in the file, validated against the file layout.
  func byteRange() throws -> Range<Int> {
    guard chunk.hasMetaData else { throw fail("column chunk has no ColumnMetaData (encrypted or external?)", hint: "re-write the file without encryption") }
    if let external = chunk.filePath, !external.isEmpty {
      throw fail("column chunk lives in another file ('\(external)')", hint: "read that file directly, or re-write the data as a single file")
    }
    var start = chunk.dataPageOffset
    if let d = chunk.dictionaryPageOffset, d > 0, d < start { start = d }
    let size = chunk.totalCompressedSize
    guard start >= 4, size > 0, size <= Int64(dataEnd), start <= Int64(dataEnd) - size else {
      throw fail("column chunk range (offset \(start), \(size) bytes) lies outside the file's data section (bytes 4..<\(dataEnd))",
        hint: "the file is truncated or its footer is corrupt — re-copy it")
    }
    return Int(start)..<Int(start + size)
  }

  /// The chunk's page headers with their file offsets, without decoding values (diagnostics, tests).
  func pageHeaders() throws -> [(offset: Int, header: ParquetPageHeader)] {
    let range = try byteRange()
    let bytes = try file.read(offset: range.lowerBound, count: range.count)
    var out: [(offset: Int, header: ParquetPageHeader)] = []
    var position = 0
    while position < bytes.count {
      var thrift = ThriftCompactReader(bytes: bytes, position: position, baseOffset: range.lowerBound, context: "\(prefix), page \(out.count) header")
      let header = try ParquetPageHeader(&thrift)
      out.append((range.lowerBound + position, header))
      position = thrift.position + Int(header.compressedPageSize)
    }
    return out
  }

  private func read<B: ParquetValueBuilder>(_: B.Type) throws -> ParquetColumnValues {
    guard ParquetPhysicalType(thrift: chunk.type) == column.physicalType else {
      throw fail("column chunk has type \(ParquetPhysicalType(thrift: chunk.type)) but the schema says \(column.physicalType)")
    }
    let codec = ParquetCodec(thrift: chunk.codec)
    guard ParquetDecompression.isSupported(codec) else {
      let e = ParquetDecompression.unsupported(codec)
      throw fail(e.message, hint: e.hint)
    }
    guard chunk.numValues == Int64(rowGroupRows) else {
      throw fail("column chunk has \(chunk.numValues) values but the row group has \(rowGroupRows) rows (a flat column has one value per row)")
    }
    // A row group of 0 rows (how pyarrow writes an empty table) has nothing to decode; its
    // chunk may hold no pages (size 0) or only a dictionary page (data_page_offset 0).
    if rowGroupRows == 0 {
      return ParquetColumnValues(column: column, storage: B(expectedRows: 0).storage(), validity: column.isOptional ? ParquetValidity() : nil)
    }
    let range = try byteRange()
    let bytes = try file.read(offset: range.lowerBound, count: range.count)

    // Only a capacity hint: capped so a corrupt row count cannot force a huge allocation.
    var builder = B(expectedRows: min(rowGroupRows, max(1 << 16, range.count * 8)))
    var validity = ParquetValidity()
    var position = 0
    var page = 0
    while builder.count < rowGroupRows {
      let pageOffset = range.lowerBound + position
      guard position < bytes.count else {
        throw fail("column chunk ends (byte offset \(pageOffset)) after \(builder.count) of \(rowGroupRows) values")
      }
      var thrift = ThriftCompactReader(
        bytes: bytes, position: position, baseOffset: range.lowerBound, context: "\(prefix), page \(page) header")
      let header = try ParquetPageHeader(&thrift)
      let body = thrift.position..<(thrift.position + Int(header.compressedPageSize))
      guard body.upperBound <= bytes.count else {
        throw fail("page \(page) at byte offset \(pageOffset) claims \(header.compressedPageSize) bytes, past the end of the column chunk")
      }
      do {
        try decodePage(header, bytes, body, codec, &builder, &validity)
      } catch let e as ParquetDecodeError {
        throw DataError(
          "\(prefix), page \(page) at byte offset \(pageOffset): \(e.message); \(e.hint ?? "the file is corrupt — re-copy it or re-write it")")
      }
      position = body.upperBound
      page += 1
    }
    guard builder.count == rowGroupRows else {
      throw fail("pages hold \(builder.count) values but the row group has \(rowGroupRows) rows")
    }
    return ParquetColumnValues(column: column, storage: builder.storage(), validity: column.isOptional ? validity : nil)
  }

  private func decodePage<B: ParquetValueBuilder>(
    _ header: ParquetPageHeader, _ bytes: [UInt8], _ body: Range<Int>, _ codec: ParquetCodec,
    _ builder: inout B, _ validity: inout ParquetValidity
  ) throws {
    let rowsLeft = rowGroupRows - builder.count
    switch header.type {
    case .dictionaryPage:
      guard let dict = header.dictionary else { throw ParquetDecodeError("dictionary page without a DictionaryPageHeader") }
      guard builder.dictionaryCount == nil, builder.count == 0 else {
        throw ParquetDecodeError("dictionary page after data pages (only one, first, is allowed)")
      }
      let encoding = ParquetEncoding(thrift: dict.encoding)
      guard encoding == .plain || encoding == .plainDictionary else {
        throw ParquetDecodeError("dictionary page encoding \(encoding) is not supported", hint: "re-write the file with a PLAIN dictionary")
      }
      let data = try ParquetDecompression.decompress(codec, bytes, body, size: Int(header.uncompressedPageSize))
      var cursor = ParquetByteCursor(data)
      try builder.loadDictionary(&cursor, count: Int(dict.numValues))

    case .dataPage:
      guard let h = header.dataV1 else { throw ParquetDecodeError("data page without a DataPageHeader") }
      let n = Int(h.numValues)
      guard n <= rowsLeft else { throw ParquetDecodeError("data page holds \(n) values but only \(rowsLeft) rows remain in the row group") }
      let data = try ParquetDecompression.decompress(codec, bytes, body, size: Int(header.uncompressedPageSize))
      var cursor = ParquetByteCursor(data)
      var levels: ParquetByteCursor?
      if column.isOptional {
        guard ParquetEncoding(thrift: h.definitionLevelEncoding) == .rle else {
          throw ParquetDecodeError(
            "definition levels use encoding \(ParquetEncoding(thrift: h.definitionLevelEncoding))",
            hint: "only RLE definition levels are supported; re-write the file with a current writer")
        }
        let length = try cursor.readUInt32LE("definition levels length")
        guard length <= UInt32(cursor.remaining) else {
          throw ParquetDecodeError("definition levels length \(length) exceeds the \(cursor.remaining) bytes left in the page")
        }
        levels = try cursor.sub(Int(length), "definition levels")
      }
      try decodeValues(n, levels: levels, nulls: nil, encoding: ParquetEncoding(thrift: h.encoding), &cursor, &builder, &validity)

    case .dataPageV2:
      guard let h = header.dataV2 else { throw ParquetDecodeError("data page v2 without a DataPageHeaderV2") }
      let n = Int(h.numValues)
      guard n <= rowsLeft else { throw ParquetDecodeError("data page holds \(n) values but only \(rowsLeft) rows remain in the row group") }
      let repLength = Int(h.repetitionLevelsByteLength), defLength = Int(h.definitionLevelsByteLength)
      guard repLength <= body.count, defLength <= body.count - repLength else {
        throw ParquetDecodeError("level byte lengths (\(repLength) + \(defLength)) exceed the page body of \(body.count) bytes")
      }
      let levelsStart = body.lowerBound + repLength
      let valuesRange = (levelsStart + defLength)..<body.upperBound
      let valuesSize = Int(header.uncompressedPageSize) - repLength - defLength
      let data: [UInt8]
      if h.isCompressed && codec != .uncompressed {
        data = try ParquetDecompression.decompress(codec, bytes, valuesRange, size: valuesSize)
      } else {
        data = try ParquetDecompression.decompress(.uncompressed, bytes, valuesRange, size: valuesSize)
      }
      let levels = column.isOptional ? ParquetByteCursor(bytes, from: levelsStart, to: levelsStart + defLength) : nil
      var cursor = ParquetByteCursor(data)
      try decodeValues(n, levels: levels, nulls: Int(h.numNulls), encoding: ParquetEncoding(thrift: h.encoding), &cursor, &builder, &validity)

    case .indexPage, .unknown:
      return  // not needed to decode values
    }
  }

  /// Decodes `n` rows: definition levels (when `levels` is given) decide which rows are
  /// null; the non-null ones are decoded from `values` in `encoding`.
  private func decodeValues<B: ParquetValueBuilder>(
    _ n: Int, levels: ParquetByteCursor?, nulls: Int?, encoding: ParquetEncoding,
    _ values: inout ParquetByteCursor, _ builder: inout B, _ validity: inout ParquetValidity
  ) throws {
    var defs: [UInt32] = []
    var present = n
    if let levels {
      var decoder = try RLEBitPackedDecoder(levels, bitWidth: 1, what: "definition levels")
      try decoder.decode(count: n, into: &defs)
      present = 0
      for d in defs {
        guard d <= 1 else { throw ParquetDecodeError("definition level \(d) exceeds the column's maximum of 1") }
        present += Int(d)
      }
    }
    if let nulls, nulls != n - present {
      throw ParquetDecodeError("page header says \(nulls) nulls but the definition levels have \(n - present)")
    }

    // Where the non-null values come from.
    var indices: [UInt32] = []
    let source: Source
    switch encoding {
    case .plain:
      source = .plain
      builder.beginPage()
    case .plainDictionary, .rleDictionary:
      guard let size = builder.dictionaryCount else { throw ParquetDecodeError("dictionary-encoded page but the column chunk has no dictionary page") }
      if present > 0 {
        let width = Int(try values.readByte())
        var decoder = try RLEBitPackedDecoder(values, bitWidth: width, what: "dictionary indices")
        try decoder.decode(count: present, into: &indices)
        if size == 0 { throw ParquetDecodeError("dictionary-encoded values but the dictionary is empty") }
      }
      source = .indices
    case .rle where column.physicalType == .boolean:
      let length = try values.readUInt32LE("RLE boolean data length")
      guard length <= UInt32(values.remaining) else { throw ParquetDecodeError("RLE boolean data length \(length) exceeds the page") }
      var decoder = try RLEBitPackedDecoder(try values.sub(Int(length), "RLE booleans"), bitWidth: 1, what: "RLE booleans")
      try decoder.decode(count: present, into: &indices)
      source = .bits
    default:
      throw ParquetDecodeError(
        "value encoding \(encoding) is not supported for \(column.physicalType)",
        hint: "only PLAIN and dictionary encodings are supported; re-write the file with those (pyarrow's default)")
    }

    func appendPresent(_ from: Int, _ count: Int) throws {
      switch source {
      case .plain: try builder.appendPlain(&values, count: count)
      case .indices: try builder.appendDictionary(indices[from..<(from + count)])
      case .bits: try builder.appendBits(indices[from..<(from + count)])
      }
    }

    if present == n {
      try appendPresent(0, n)
      validity.append(valid: true, count: n)
      return
    }
    // Runs of equal definition levels: nulls get placeholders, values come from the source.
    var row = 0, next = 0
    while row < n {
      let isValid = defs[row] == 1
      var end = row + 1
      while end < n && (defs[end] == 1) == isValid { end += 1 }
      let run = end - row
      if isValid {
        try appendPresent(next, run)
        next += run
      } else {
        builder.appendNulls(run)
      }
      validity.append(valid: isValid, count: run)
      row = end
    }
  }

  private enum Source { case plain, indices, bits }
}
