import Foundation
import TMLNN
import TMLTensor

/// Writes a TwHIN model's embedding tables, one file per table:
///
///     <dir>/<table>.safetensors   tensor "weight" F32 [num_embeddings, dim];
///                                 metadata {"table": name, "format": "pt"}
///     <dir>/<table>.tsv           one line per row: "id\tv_1\t…\tv_dim\n", id = row index,
///                                 values in Swift's shortest round-trip decimal form
///
/// Readable with `safetensors.torch.load_file` / `pandas.read_csv(sep="\t", header=None)`.
///
///     let files = try EmbeddingExport.writeSafetensors(model, to: dir)
public enum EmbeddingExport {
  /// One safetensors file per table; returns the files written, in table order.
  @discardableResult
  public static func writeSafetensors(_ model: TwHINModel, to directory: URL) throws -> [URL] {
    try prepare(directory)
    return try zip(model.schema.tables, model.tables).map { spec, table in
      let url = try file(directory, spec.name, "safetensors")
      var w = SafetensorsWriter(metadata: ["table": spec.name, "format": "pt"])
      w.add("weight", table.weight.value.detached())
      do { try w.write(to: url) } catch { throw TwHINError("embedding export: table \"\(spec.name)\": \(error)") }
      return url
    }
  }

  /// One TSV file per table; returns the files written, in table order.
  @discardableResult
  public static func writeTSV(_ model: TwHINModel, to directory: URL) throws -> [URL] {
    try prepare(directory)
    return try zip(model.schema.tables, model.tables).map { spec, table in
      let url = try file(directory, spec.name, "tsv")
      guard FileManager.default.createFile(atPath: url.path, contents: nil),
            let handle = try? FileHandle(forWritingTo: url) else {
        throw TwHINError("embedding export: cannot create \(url.path) for table \"\(spec.name)\"; check the directory is writable")
      }
      defer { try? handle.close() }
      let d = model.dim
      var chunk = ""
      chunk.reserveCapacity(1 << 20)
      try table.weight.value.withUnsafeBufferPointer { w in
        for row in 0..<spec.numEmbeddings {
          chunk += String(row)
          for j in 0..<d { chunk += "\t"; chunk += w[row * d + j].description }
          chunk += "\n"
          if chunk.utf8.count >= 1 << 20 || row == spec.numEmbeddings - 1 {
            do { try handle.write(contentsOf: Data(chunk.utf8)) } catch {
              throw TwHINError("embedding export: writing \(url.path) (table \"\(spec.name)\") failed at row \(row): \(error.localizedDescription)")
            }
            chunk.removeAll(keepingCapacity: true)
          }
        }
      }
      return url
    }
  }

  private static func prepare(_ directory: URL) throws {
    do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
      throw TwHINError("embedding export: cannot create directory \(directory.path): \(error.localizedDescription)")
    }
  }

  private static func file(_ directory: URL, _ table: String, _ ext: String) throws -> URL {
    guard !table.contains("/"), table != ".", table != ".." else {
      throw TwHINError("embedding export: table name \"\(table)\" cannot be used as a file name; rename the table")
    }
    return directory.appendingPathComponent("\(table).\(ext)")
  }
}
