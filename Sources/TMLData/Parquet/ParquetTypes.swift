/// Parquet's physical types (`parquet.thrift` enum `Type`).
public enum ParquetPhysicalType: Equatable, Sendable, CustomStringConvertible {
  case boolean, int32, int64, int96, float, double, byteArray, fixedLenByteArray
  case unknown(Int32)

  init(thrift v: Int32) {
    switch v {
    case 0: self = .boolean
    case 1: self = .int32
    case 2: self = .int64
    case 3: self = .int96
    case 4: self = .float
    case 5: self = .double
    case 6: self = .byteArray
    case 7: self = .fixedLenByteArray
    default: self = .unknown(v)
    }
  }

  public var description: String {
    switch self {
    case .boolean: return "BOOLEAN"
    case .int32: return "INT32"
    case .int64: return "INT64"
    case .int96: return "INT96"
    case .float: return "FLOAT"
    case .double: return "DOUBLE"
    case .byteArray: return "BYTE_ARRAY"
    case .fixedLenByteArray: return "FIXED_LEN_BYTE_ARRAY"
    case .unknown(let v): return "unknown type \(v)"
    }
  }

  /// Whether this reader decodes values of this type.
  public var isSupported: Bool {
    switch self {
    case .boolean, .int32, .int64, .float, .double, .byteArray: return true
    default: return false
    }
  }
}

/// Parquet value / level encodings (`parquet.thrift` enum `Encoding`).
public enum ParquetEncoding: Equatable, Hashable, Sendable, CustomStringConvertible {
  case plain, plainDictionary, rle, bitPacked, deltaBinaryPacked, deltaLengthByteArray
  case deltaByteArray, rleDictionary, byteStreamSplit
  case unknown(Int32)

  init(thrift v: Int32) {
    switch v {
    case 0: self = .plain
    case 2: self = .plainDictionary
    case 3: self = .rle
    case 4: self = .bitPacked
    case 5: self = .deltaBinaryPacked
    case 6: self = .deltaLengthByteArray
    case 7: self = .deltaByteArray
    case 8: self = .rleDictionary
    case 9: self = .byteStreamSplit
    default: self = .unknown(v)
    }
  }

  public var description: String {
    switch self {
    case .plain: return "PLAIN"
    case .plainDictionary: return "PLAIN_DICTIONARY"
    case .rle: return "RLE"
    case .bitPacked: return "BIT_PACKED"
    case .deltaBinaryPacked: return "DELTA_BINARY_PACKED"
    case .deltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY"
    case .deltaByteArray: return "DELTA_BYTE_ARRAY"
    case .rleDictionary: return "RLE_DICTIONARY"
    case .byteStreamSplit: return "BYTE_STREAM_SPLIT"
    case .unknown(let v): return "unknown encoding \(v)"
    }
  }

  /// True for the two encodings whose values are indices into the dictionary page.
  var isDictionary: Bool { self == .plainDictionary || self == .rleDictionary }
}

/// Parquet compression codecs (`parquet.thrift` enum `CompressionCodec`).
public enum ParquetCodec: Equatable, Sendable, CustomStringConvertible {
  case uncompressed, snappy, gzip, lzo, brotli, lz4, zstd, lz4Raw
  case unknown(Int32)

  init(thrift v: Int32) {
    switch v {
    case 0: self = .uncompressed
    case 1: self = .snappy
    case 2: self = .gzip
    case 3: self = .lzo
    case 4: self = .brotli
    case 5: self = .lz4
    case 6: self = .zstd
    case 7: self = .lz4Raw
    default: self = .unknown(v)
    }
  }

  public var description: String {
    switch self {
    case .uncompressed: return "UNCOMPRESSED"
    case .snappy: return "SNAPPY"
    case .gzip: return "GZIP"
    case .lzo: return "LZO"
    case .brotli: return "BROTLI"
    case .lz4: return "LZ4"
    case .zstd: return "ZSTD"
    case .lz4Raw: return "LZ4_RAW"
    case .unknown(let v): return "unknown codec \(v)"
    }
  }
}

/// Field repetition (`parquet.thrift` enum `FieldRepetitionType`).
public enum ParquetRepetition: Equatable, Sendable {
  case required, optional, repeated

  init?(thrift v: Int32) {
    switch v {
    case 0: self = .required
    case 1: self = .optional
    case 2: self = .repeated
    default: return nil
    }
  }
}

/// A top-level flat column of a Parquet file, as `ParquetFile.schema` lists it.
public struct ParquetColumn: Equatable, Sendable, CustomStringConvertible {
  public let name: String
  public let physicalType: ParquetPhysicalType
  /// True when the column may hold nulls (repetition OPTIONAL).
  public let isOptional: Bool
  /// The Thrift `ConvertedType` code if the writer set one (0 = UTF8 for strings).
  public let convertedType: Int32?
  /// Index of this column's chunk within each row group.
  public let leafIndex: Int

  public var description: String { "\(name): \(physicalType)\(isOptional ? " (optional)" : "")" }
}
