/// The parts of Parquet's footer (`parquet.thrift` `FileMetaData` and the
/// structs under it) that a flat-schema reader needs, decoded with
/// `ThriftCompactReader`. Fields not listed here (statistics, key/value
/// metadata, encryption, column/offset indexes, …) are skipped.
struct ParquetFileMetaData {
  var version: Int32 = 0
  var schema: [ParquetSchemaElement] = []
  var numRows: Int64 = 0
  var rowGroups: [ParquetRowGroup] = []
  var createdBy: String?

  init(_ r: inout ThriftCompactReader) throws {
    var sawSchema = false, sawRows = false, sawGroups = false
    try r.readStruct { r, f in
      switch f.id {
      case 1: try r.expect(f, .i32, "FileMetaData.version"); version = try r.readI32()
      case 2:
        try r.expect(f, .list, "FileMetaData.schema")
        schema = try r.readList(of: .structure) { try ParquetSchemaElement(&$0) }
        sawSchema = true
      case 3: try r.expect(f, .i64, "FileMetaData.num_rows"); numRows = try r.readI64(); sawRows = true
      case 4:
        try r.expect(f, .list, "FileMetaData.row_groups")
        rowGroups = try r.readList(of: .structure) { try ParquetRowGroup(&$0) }
        sawGroups = true
      case 6: try r.expect(f, .binary, "FileMetaData.created_by"); createdBy = try r.readString()
      default: return false
      }
      return true
    }
    guard sawSchema, sawRows, sawGroups else { throw r.error("FileMetaData lacks schema, num_rows or row_groups") }
    guard numRows >= 0 else { throw r.error("negative num_rows \(numRows)") }
  }
}

/// `parquet.thrift` `SchemaElement`: one node of the depth-first flattened schema tree.
struct ParquetSchemaElement {
  var type: Int32?
  var typeLength: Int32?
  var repetition: Int32?
  var name = ""
  var numChildren: Int32 = 0
  var convertedType: Int32?

  init(_ r: inout ThriftCompactReader) throws {
    try r.readStruct { r, f in
      switch f.id {
      case 1: try r.expect(f, .i32, "SchemaElement.type"); type = try r.readI32()
      case 2: try r.expect(f, .i32, "SchemaElement.type_length"); typeLength = try r.readI32()
      case 3: try r.expect(f, .i32, "SchemaElement.repetition_type"); repetition = try r.readI32()
      case 4: try r.expect(f, .binary, "SchemaElement.name"); name = try r.readString()
      case 5: try r.expect(f, .i32, "SchemaElement.num_children"); numChildren = try r.readI32()
      case 6: try r.expect(f, .i32, "SchemaElement.converted_type"); convertedType = try r.readI32()
      default: return false
      }
      return true
    }
    guard numChildren >= 0 else { throw r.error("schema element '\(name)' has negative num_children") }
  }
}

/// `parquet.thrift` `RowGroup`.
struct ParquetRowGroup {
  var columns: [ParquetColumnChunkMetaData] = []
  var numRows: Int64 = 0

  init(_ r: inout ThriftCompactReader) throws {
    try r.readStruct { r, f in
      switch f.id {
      case 1:
        try r.expect(f, .list, "RowGroup.columns")
        columns = try r.readList(of: .structure) { try ParquetColumnChunkMetaData(&$0) }
      case 3: try r.expect(f, .i64, "RowGroup.num_rows"); numRows = try r.readI64()
      default: return false
      }
      return true
    }
    guard numRows >= 0 else { throw r.error("row group has negative num_rows \(numRows)") }
  }
}

/// `parquet.thrift` `ColumnChunk` with its `ColumnMetaData` flattened in.
struct ParquetColumnChunkMetaData {
  var filePath: String?
  var type: Int32 = -1
  var encodings: [Int32] = []
  var pathInSchema: [String] = []
  var codec: Int32 = 0
  var numValues: Int64 = 0
  var totalUncompressedSize: Int64 = 0
  var totalCompressedSize: Int64 = 0
  var dataPageOffset: Int64 = 0
  var dictionaryPageOffset: Int64?
  var hasMetaData = false

  init(_ r: inout ThriftCompactReader) throws {
    try r.readStruct { r, f in
      switch f.id {
      case 1: try r.expect(f, .binary, "ColumnChunk.file_path"); filePath = try r.readString()
      case 3:
        try r.expect(f, .structure, "ColumnChunk.meta_data")
        try readColumnMetaData(&r)
        hasMetaData = true
      default: return false
      }
      return true
    }
  }

  private mutating func readColumnMetaData(_ r: inout ThriftCompactReader) throws {
    try r.readStruct { r, f in
      switch f.id {
      case 1: try r.expect(f, .i32, "ColumnMetaData.type"); type = try r.readI32()
      case 2:
        try r.expect(f, .list, "ColumnMetaData.encodings")
        encodings = try r.readList(of: .i32) { try $0.readI32() }
      case 3:
        try r.expect(f, .list, "ColumnMetaData.path_in_schema")
        pathInSchema = try r.readList(of: .binary) { try $0.readString() }
      case 4: try r.expect(f, .i32, "ColumnMetaData.codec"); codec = try r.readI32()
      case 5: try r.expect(f, .i64, "ColumnMetaData.num_values"); numValues = try r.readI64()
      case 6: try r.expect(f, .i64, "ColumnMetaData.total_uncompressed_size"); totalUncompressedSize = try r.readI64()
      case 7: try r.expect(f, .i64, "ColumnMetaData.total_compressed_size"); totalCompressedSize = try r.readI64()
      case 9: try r.expect(f, .i64, "ColumnMetaData.data_page_offset"); dataPageOffset = try r.readI64()
      case 11: try r.expect(f, .i64, "ColumnMetaData.dictionary_page_offset"); dictionaryPageOffset = try r.readI64()
      default: return false
      }
      return true
    }
  }
}
