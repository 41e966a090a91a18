import Foundation
import TMLIO
import TMLNN
import TMLTensor

/// Writes a TwHIN model's embedding tables, one file per table:
///
///     <dir>/<table>.safetensors   tensor "weight" F32 [num_embeddings, dim];
///                                 metadata {"table": name, "format": "pt"}
///     <dir>/<table>.tsv           one line per row: "id\tv_1\t…\tv_dim\n", id = the row's raw id
///                                 from the table's vocab when given, else the row index;
///                                 values in Swift's shortest round-trip decimal form
///
/// and, with `writeTranslations`, the relations' translation vectors:
///
///     <dir>/translations.safetensors   tensor "all_trans_embs" F32 [num_relations, dim];
///                                      metadata {"relations": "fav,reply,…"}
///     <dir>/translations.tsv           "relation\tv_1\t…\tv_dim\n" per relation
///
/// Readable with `safetensors.torch.load_file` / `pandas.read_csv(sep="\t", header=None)`.
///
///     let files = try EmbeddingExport.writeSafetensors(model, to: dir)
public enum EmbeddingExport {
  /// One table to export: its name, rows [N, dim], and optionally each row's raw id.
  public struct Table {
    public var name: String
    public var weight: Tensor
    public var ids: [Int64]?
    public init(name: String, weight: Tensor, ids: [Int64]? = nil) {
      self.name = name
      self.weight = weight
      self.ids = ids
    }
  }

  /// One safetensors file per table; returns the files written, in table order.
  @discardableResult
  public static func writeSafetensors(_ model: TwHINModel, to directory: URL) throws -> [URL] {
    try writeSafetensors(tables(model), to: directory)
  }

  /// One TSV file per table; returns the files written, in table order.
  @discardableResult
  public static func writeTSV(_ model: TwHINModel, to directory: URL) throws -> [URL] {
    try writeTSV(tables(model), to: directory)
  }

  static func tables(_ model: TwHINModel) -> [Table] {
    zip(model.schema.tables, model.tables).map { Table(name: $0.name, weight: $1.weight.value.detached()) }
  }

  @discardableResult
  public static func writeSafetensors(_ tables: [Table], to directory: URL) throws -> [URL] {
    try prepare(directory)
    return try tables.map { t in
      let url = try file(directory, t.name, "safetensors")
      var w = SafetensorsWriter(metadata: ["table": t.name, "format": "pt"])
      w.add("weight", t.weight)
      do { try w.write(to: url) } catch { throw TwHINError("embedding export: table \"\(t.name)\": \(error)") }
      return url
    }
  }

  @discardableResult
  public static func writeTSV(_ tables: [Table], to directory: URL, progress: ((Int) -> Void)? = nil) throws -> [URL] {
    try prepare(directory)
    var written = 0
    return try tables.map { t in
      guard t.weight.rank == 2 else { throw TwHINError("embedding export: table \"\(t.name)\" is not a matrix (shape \(t.weight.shape))") }
      let url = try file(directory, t.name, "tsv")
      let rows = t.weight.shape[0]
      try writeLines(url, what: "table \"\(t.name)\"", rows: rows, dim: t.weight.shape[1], t.weight) { row in
        t.ids.map { $0[row] >= 0 ? String($0[row]) : "row\(row)" } ?? String(row)
      } progress: { progress?(written + $0) }
      written += rows
      return url
    }
  }

  /// `translations.safetensors` and `translations.tsv`; returns both files.
  @discardableResult
  public static func writeTranslations(_ translations: Tensor, relations: [String], to directory: URL) throws -> [URL] {
    try prepare(directory)
    guard translations.rank == 2, translations.shape[0] == relations.count else {
      throw TwHINError("embedding export: all_trans_embs has shape \(translations.shape) for \(relations.count) relations")
    }
    let st = directory.appendingPathComponent("translations.safetensors")
    var w = SafetensorsWriter(metadata: ["relations": relations.joined(separator: ","), "format": "pt"])
    w.add("all_trans_embs", translations)
    do { try w.write(to: st) } catch { throw TwHINError("embedding export: translations: \(error)") }
    let tsv = directory.appendingPathComponent("translations.tsv")
    try writeLines(tsv, what: "translations", rows: relations.count, dim: translations.shape[1], translations) { relations[$0] } progress: { _ in }
    return [st, tsv]
  }

  private static func writeLines(_ url: URL, what: String, rows: Int, dim d: Int, _ values: Tensor,
                                 id: (Int) -> String, progress: (Int) -> Void) throws {
    let out: FileWriter
    do { out = try FileWriter(path: url.path) } catch {
      throw TwHINError("embedding export (\(what)): \(FileError.message(error)); check the directory is writable")
    }
    var chunk = ""
    chunk.reserveCapacity(1 << 20)
    try values.withUnsafeBufferPointer { w in
      for row in 0..<rows {
        chunk += id(row)
        for j in 0..<d { chunk += "\t"; chunk += w[row * d + j].description }
        chunk += "\n"
        if chunk.utf8.count >= 1 << 20 || row == rows - 1 {
          do { try out.write(chunk) } catch {
            throw TwHINError("embedding export: writing \(what) failed at row \(row): \(FileError.message(error))")
          }
          chunk.removeAll(keepingCapacity: true)
          progress(row + 1)
        }
      }
    }
    do { try out.close() } catch { throw TwHINError("embedding export: closing \(what) failed: \(FileError.message(error))") }
  }

  private static func prepare(_ directory: URL) throws {
    do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
      throw TwHINError("embedding export: cannot create directory \(directory.path): \(FileError.reason(of: error))")
    }
  }

  private static func file(_ directory: URL, _ table: String, _ ext: String) throws -> URL {
    guard !table.contains("/"), table != ".", table != "..", table != "translations" else {
      throw TwHINError("embedding export: table name \"\(table)\" cannot be used as a file name; rename the table")
    }
    return directory.appendingPathComponent("\(table).\(ext)")
  }
}
