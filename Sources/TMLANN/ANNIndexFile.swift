import Foundation
import TMLIO
import TMLTensor
import TwHIN

/// An HNSW index saved next to a TwHIN checkpoint: `<step_N>/ann/<table>.hnsw` (hnswlib's
/// own format) and `<step_N>/ann/<table>.json`, this header:
///
///     {"format": "swifttml-hnsw", "version": 1, "table": "tweet", "rows": n, "dimension": d,
///      "metric": "inner_product", "parameters": {"m": 16, "efConstruction": 200, "seed": 100},
///      "tableCRC32C": …, "fileBytes": …, "fileCRC32C": …}
///
/// `fileCRC32C` guards the index file (hnswlib checks only its structure) and `tableCRC32C`,
/// the CRC-32C of the table's float32 rows it was built from, tells a stale index (the
/// checkpoint's table has changed since) from a current one. Both files are written to
/// temporary names and renamed, header last, so a reader never sees half an index.
public struct ANNIndexFile: Codable, Equatable, Sendable {
  public var format = "swifttml-hnsw"
  public var version = 1
  public var table: String
  public var rows: Int
  public var dimension: Int
  public var metric: HNSWMetric
  public var parameters: HNSWParameters
  public var tableCRC32C: UInt32
  public var fileBytes: Int
  public var fileCRC32C: UInt32

  /// `<checkpoint>/ann/<table>.hnsw` and `.json`.
  public static func paths(checkpoint: URL, table: String) -> (index: URL, header: URL) {
    let dir = checkpoint.appendingPathComponent("ann")
    return (dir.appendingPathComponent("\(table).hnsw"), dir.appendingPathComponent("\(table).json"))
  }

  /// CRC-32C of a table's rows as stored (float32, row-major).
  public static func checksum(of vectors: UnsafeBufferPointer<Float>) -> UInt32 {
    CRC32C.checksum(UnsafeRawBufferPointer(vectors))
  }

  /// Writes `index` and its header for `table` into `checkpoint`'s ann/ folder.
  public static func write(_ index: HNSWIndex, table: String, parameters: HNSWParameters, tableCRC32C: UInt32, checkpoint: URL) throws {
    let (indexURL, headerURL) = paths(checkpoint: checkpoint, table: table)
    try FileManager.default.createDirectory(at: indexURL.deletingLastPathComponent(), withIntermediateDirectories: true)
    let tmpIndex = indexURL.appendingPathExtension("tmp"), tmpHeader = headerURL.appendingPathExtension("tmp")
    try index.write(to: tmpIndex.path)
    let (bytes, crc) = try fileChecksum(tmpIndex)
    let header = ANNIndexFile(table: table, rows: index.count, dimension: index.dimension, metric: index.metric,
                              parameters: parameters, tableCRC32C: tableCRC32C, fileBytes: bytes, fileCRC32C: crc)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let writer = try FileWriter(path: tmpHeader.path)
    try writer.write(try encoder.encode(header))
    try writer.close()
    try replace(indexURL, with: tmpIndex)
    try replace(headerURL, with: tmpHeader)
  }

  /// Reads and checks the index of `table` built from rows with checksum `tableCRC32C`;
  /// every mismatch is an error naming the file and the command that rebuilds it.
  public static func read(table: String, rows: Int, dimension: Int, tableCRC32C: UInt32, checkpoint: URL) throws -> (HNSWIndex, ANNIndexFile) {
    let (indexURL, headerURL) = paths(checkpoint: checkpoint, table: table)
    let rebuild = "rebuild it with `tml twhin build-ann --table \(table)`"
    guard let data = FileManager.default.contents(atPath: headerURL.path) else {
      throw TwHINError("\(headerURL.path): no ANN index for table \"\(table)\" in this checkpoint; build one with `tml twhin build-ann --table \(table)`")
    }
    let header: ANNIndexFile
    do { header = try JSONDecoder().decode(ANNIndexFile.self, from: data) } catch {
      throw TwHINError("\(headerURL.path): not an ANN index header (\(error)); \(rebuild)")
    }
    guard header.format == "swifttml-hnsw", header.version == 1 else {
      throw TwHINError("\(headerURL.path): format \(header.format) version \(header.version) is not swifttml-hnsw version 1; \(rebuild)")
    }
    guard header.rows == rows, header.dimension == dimension, header.tableCRC32C == tableCRC32C else {
      throw TwHINError("\(headerURL.path): stale index: built from \(header.rows) × \(header.dimension) rows with CRC-32C \(header.tableCRC32C), the checkpoint's table \"\(table)\" is \(rows) × \(dimension) with CRC-32C \(tableCRC32C); \(rebuild)")
    }
    let (bytes, crc) = try fileChecksum(indexURL)
    guard bytes == header.fileBytes, crc == header.fileCRC32C else {
      throw TwHINError("\(indexURL.path): damaged index (\(bytes) bytes, CRC-32C \(crc); the header says \(header.fileBytes) bytes, CRC-32C \(header.fileCRC32C)); \(rebuild)")
    }
    let index = try HNSWIndex(reading: indexURL.path, dimension: dimension, metric: header.metric)
    guard index.count == rows else {
      throw TwHINError("\(indexURL.path): holds \(index.count) vectors, the header says \(rows); \(rebuild)")
    }
    return (index, header)
  }

  static func fileChecksum(_ url: URL) throws -> (bytes: Int, crc: UInt32) {
    let data: Data
    do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch { throw FileError.from(error, path: url.path) }
    return (data.count, data.withUnsafeBytes { CRC32C.checksum($0) })
  }

  static func replace(_ target: URL, with source: URL) throws {
    if rename(source.path, target.path) != 0 { throw FileError(path: target.path, errno: errno) }
  }
}
