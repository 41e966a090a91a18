import Foundation
import TMLData
import TwHIN

/// Writes the TwHIN graph to `--out/graph/`:
///
///     schema.json              {"tables": [{"name", "num_embeddings"}], "relations": [{"name", "lhs", "rhs"}]}
///     train_edges.parquet      INT64 columns lhs, rel, rhs — one row per edge (rel = relation
///     held_out_edges.parquet   index; lhs and rhs are row ids of the relation's lhs and rhs tables)
///
/// the original's edge columns (`lhs`, `rel`, `rhs`), readable with `ParquetFile`, pyarrow
/// or pandas.
enum EdgeFiles {
  @discardableResult
  static func write(_ graph: EngagementGraph, to directory: URL) throws -> [URL] {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let schemaURL = directory.appendingPathComponent("schema.json")
    let tables = graph.schema.tables.map { "{\"name\": \"\($0.name)\", \"num_embeddings\": \($0.numEmbeddings)}" }
    let relations = graph.schema.relations.map { "{\"name\": \"\($0.name)\", \"lhs\": \"\($0.lhs)\", \"rhs\": \"\($0.rhs)\"}" }
    let json = "{\n  \"tables\": [\n    " + tables.joined(separator: ",\n    ") + "\n  ],\n  \"relations\": [\n    "
      + relations.joined(separator: ",\n    ") + "\n  ]\n}\n"
    try json.write(to: schemaURL, atomically: true, encoding: .utf8)
    var files = [schemaURL]
    for (name, edges) in [("train_edges.parquet", graph.train), ("held_out_edges.parquet", graph.heldOut)] {
      let url = directory.appendingPathComponent(name)
      try ParquetWriter.write(path: url.path, columns: [
        ("lhs", .int64(edges.lhs.map(Int64.init))), ("rel", .int64(edges.relations.map(Int64.init))),
        ("rhs", .int64(edges.rhs.map(Int64.init))),
      ])
      files.append(url)
    }
    return files
  }
}
