import Foundation
import TMLData

/// The files a `data_root` (or a table's `vocab`) names, and their format.
///
///     file        data/edges/part-0.parquet
///     directory   data/edges            every non-hidden file in it, sorted
///     glob        data/edges/*.parquet  sorted
///
/// Remote URLs (`gs://`, `s3://`, `hdfs://`) are an error saying what to do. The format
/// is the config's `format`, else the extension: `.parquet`/`.pq` → Parquet, `.csv[.gz]`
/// → CSV, `.tsv[.gz]` / `.txt[.gz]` → TSV.
///
///     let files = try EdgeFiles.resolve("data/twhin_planted/train/*.parquet", what: "train_data.data_root")
public enum EdgeFiles {
  public static func resolve(_ root: String, what: String) throws -> [String] {
    if let scheme = ["gs", "s3", "hdfs", "http", "https"].first(where: { root.hasPrefix("\($0)://") }) {
      throw TwHINError("\(what): cannot read \(scheme):// paths; download the files and point data_root at them (\(root))")
    }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else { return [root] }
      let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
      let files = names.filter { !$0.hasPrefix(".") && !$0.hasPrefix("_") }.sorted().map { (root as NSString).appendingPathComponent($0) }
      guard !files.isEmpty else { throw TwHINError("\(what): the directory \(root) has no files; point it at edge files (Parquet, CSV or TSV)") }
      return files
    }
    guard root.contains(where: { "*?[".contains($0) }) else {
      throw TwHINError("\(what): \(root) does not exist; check the path (relative paths start at the working directory)")
    }
    do { return try FileGlob.expand(root) } catch let e as DataError {
      throw TwHINError("\(what): \(e.message)")
    }
  }

  /// The format of `path`: `configured` when given, else by extension.
  public static func format(of path: String, configured: TwHINEdgeFormat?, what: String) throws -> TwHINEdgeFormat {
    if let configured { return configured }
    var name = (path as NSString).lastPathComponent.lowercased()
    if name.hasSuffix(".gz") { name = String(name.dropLast(3)) }
    if name.hasSuffix(".parquet") || name.hasSuffix(".pq") { return .parquet }
    if name.hasSuffix(".csv") { return .csv }
    if name.hasSuffix(".tsv") || name.hasSuffix(".txt") { return .tsv }
    throw TwHINError("\(what): cannot tell the format of \(path) from its name; set format: parquet, csv or tsv in the data config")
  }
}

/// Integer columns read from one edge or vocab file: `values[k][i]` is column k of row
/// i; `origin(i)` names the row for errors ("row 12" in Parquet, "line 14" in text).
struct IntegerColumns {
  var values: [[Int64]]
  var isText: Bool
  var firstLine: [Int] = []  // text files: the line of each row

  var count: Int { values.first?.count ?? 0 }

  func origin(_ i: Int) -> String { isText ? "line \(firstLine[i])" : "row \(i)" }

  /// The column names of a Parquet file or the header fields of a text file.
  static func columnNames(path: String, format: TwHINEdgeFormat) throws -> [String] {
    switch format {
    case .parquet:
      do { return try ParquetFile(path: path).schema.map(\.name) } catch let e as DataError { throw TwHINError(e.message) }
    case .csv, .tsv:
      do { return try DelimitedColumns.header(path: path, delimiter: UInt8(ascii: format == .csv ? "," : "\t")) } catch let e as DataError {
        throw TwHINError(e.message)
      }
    }
  }

  /// Reads `columns` of `path`. In text files, a column listed in `names` may hold a name
  /// that `names` maps to an integer (relation names); anything else must be an integer.
  static func read(path: String, format: TwHINEdgeFormat, columns: [String],
                   names: (column: Int, lookup: (Substring) -> Int?, describe: String)? = nil) throws -> IntegerColumns {
    switch format {
    case .parquet:
      let file: ParquetFile
      do { file = try ParquetFile(path: path) } catch let e as DataError { throw TwHINError(e.message) }
      let have = file.schema.map(\.name)
      let missing = columns.filter { !have.contains($0) }
      guard missing.isEmpty else {
        throw TwHINError("\(path): no column\(missing.count > 1 ? "s" : "") \(missing.map { "'\($0)'" }.joined(separator: ", ")); the file's columns are \(have.map { "'\($0)'" }.joined(separator: ", ")) — set columns: {lhs, rel, rhs} in the data config to match")
      }
      do { return IntegerColumns(values: try columns.map { try file.readInt64Column($0) }, isText: false) } catch let e as DataError {
        throw TwHINError(e.message)
      }
    case .csv, .tsv:
      var out = IntegerColumns(values: Array(repeating: [], count: columns.count), isText: true)
      do {
        try DelimitedColumns.read(path: path, delimiter: UInt8(ascii: format == .csv ? "," : "\t"), columns: columns) { line, fields in
          for (k, f) in fields.enumerated() {
            if let v = Int64(f) {
              out.values[k].append(v)
            } else if let n = names, n.column == k, let v = n.lookup(f) {
              out.values[k].append(Int64(v))
            } else if let n = names, n.column == k {
              throw TwHINError("\(path): line \(line), column '\(columns[k])': '\(f.prefix(40))' is neither a relation id nor a relation name (\(n.describe))")
            } else {
              throw TwHINError("\(path): line \(line), column '\(columns[k])': '\(f.prefix(40))' is not an integer id; fix or drop the line")
            }
          }
          out.firstLine.append(line)
        }
      } catch let e as DataError { throw TwHINError(e.message) }
      return out
    }
  }
}
