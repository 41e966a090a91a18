/// Parquet's `PageHeader` (`parquet.thrift`) with the three page-specific headers
/// a reader of flat columns needs: `DataPageHeader` (v1), `DataPageHeaderV2` and
/// `DictionaryPageHeader`. Index pages and unknown page types are skipped by the
/// column reader using `compressedPageSize`.
struct ParquetPageHeader {
  enum PageType: Equatable {
    case dataPage, indexPage, dictionaryPage, dataPageV2
    case unknown(Int32)

    init(thrift v: Int32) {
      switch v {
      case 0: self = .dataPage
      case 1: self = .indexPage
      case 2: self = .dictionaryPage
      case 3: self = .dataPageV2
      default: self = .unknown(v)
      }
    }
  }

  /// `DataPageHeader`: levels and values all inside the (compressed) page body.
  struct DataV1 {
    var numValues: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelEncoding: Int32 = 3
    var repetitionLevelEncoding: Int32 = 3
  }

  /// `DataPageHeaderV2`: levels come first, uncompressed, with explicit byte lengths.
  struct DataV2 {
    var numValues: Int32 = 0
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelsByteLength: Int32 = 0
    var repetitionLevelsByteLength: Int32 = 0
    var isCompressed = true
  }

  /// `DictionaryPageHeader`.
  struct Dictionary {
    var numValues: Int32 = 0
    var encoding: Int32 = 0
  }

  var type: PageType = .unknown(-1)
  var uncompressedPageSize: Int32 = -1
  var compressedPageSize: Int32 = -1
  var dataV1: DataV1?
  var dataV2: DataV2?
  var dictionary: Dictionary?

  init(_ r: inout ThriftCompactReader) throws {
    var sawType = false
    try r.readStruct { r, f in
      switch f.id {
      case 1: try r.expect(f, .i32, "PageHeader.type"); type = PageType(thrift: try r.readI32()); sawType = true
      case 2: try r.expect(f, .i32, "PageHeader.uncompressed_page_size"); uncompressedPageSize = try r.readI32()
      case 3: try r.expect(f, .i32, "PageHeader.compressed_page_size"); compressedPageSize = try r.readI32()
      case 5: try r.expect(f, .structure, "PageHeader.data_page_header"); dataV1 = try Self.readDataV1(&r)
      case 7: try r.expect(f, .structure, "PageHeader.dictionary_page_header"); dictionary = try Self.readDictionary(&r)
      case 8: try r.expect(f, .structure, "PageHeader.data_page_header_v2"); dataV2 = try Self.readDataV2(&r)
      default: return false
      }
      return true
    }
    guard sawType, uncompressedPageSize >= 0, compressedPageSize >= 0 else {
      throw r.error("page header lacks type or has a missing/negative page size")
    }
  }

  private static func readDataV1(_ r: inout ThriftCompactReader) throws -> DataV1 {
    var h = DataV1()
    try r.readStruct { r, f in
      switch f.id {
      case 1: try r.expect(f, .i32, "DataPageHeader.num_values"); h.numValues = try r.readI32()
      case 2: try r.expect(f, .i32, "DataPageHeader.encoding"); h.encoding = try r.readI32()
      case 3: try r.expect(f, .i32, "DataPageHeader.definition_level_encoding"); h.definitionLevelEncoding = try r.readI32()
      case 4: try r.expect(f, .i32, "DataPageHeader.repetition_level_encoding"); h.repetitionLevelEncoding = try r.readI32()
      default: return false
      }
      return true
    }
    guard h.numValues >= 0 else { throw r.error("data page has negative num_values") }
    return h
  }

  private static func readDataV2(_ r: inout ThriftCompactReader) throws -> DataV2 {
    var h = DataV2()
    try r.readStruct { r, f in
      switch f.id {
      case 1: try r.expect(f, .i32, "DataPageHeaderV2.num_values"); h.numValues = try r.readI32()
      case 2: try r.expect(f, .i32, "DataPageHeaderV2.num_nulls"); h.numNulls = try r.readI32()
      case 3: try r.expect(f, .i32, "DataPageHeaderV2.num_rows"); h.numRows = try r.readI32()
      case 4: try r.expect(f, .i32, "DataPageHeaderV2.encoding"); h.encoding = try r.readI32()
      case 5: try r.expect(f, .i32, "DataPageHeaderV2.definition_levels_byte_length"); h.definitionLevelsByteLength = try r.readI32()
      case 6: try r.expect(f, .i32, "DataPageHeaderV2.repetition_levels_byte_length"); h.repetitionLevelsByteLength = try r.readI32()
      case 7: h.isCompressed = try r.boolValue(f, "DataPageHeaderV2.is_compressed")
      default: return false
      }
      return true
    }
    guard h.numValues >= 0, h.numNulls >= 0, h.numNulls <= h.numValues,
      h.definitionLevelsByteLength >= 0, h.repetitionLevelsByteLength >= 0
    else { throw r.error("data page v2 header has negative or inconsistent counts/lengths") }
    return h
  }

  private static func readDictionary(_ r: inout ThriftCompactReader) throws -> Dictionary {
    var h = Dictionary()
    try r.readStruct { r, f in
      switch f.id {
      case 1: try r.expect(f, .i32, "DictionaryPageHeader.num_values"); h.numValues = try r.readI32()
      case 2: try r.expect(f, .i32, "DictionaryPageHeader.encoding"); h.encoding = try r.readI32()
      default: return false
      }
      return true
    }
    guard h.numValues >= 0 else { throw r.error("dictionary page has negative num_values") }
    return h
  }
}
