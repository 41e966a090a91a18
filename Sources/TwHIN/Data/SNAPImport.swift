import Foundation

/// A SNAP edge list (`tml data snap`): one `src dst` pair of integer node ids per line,
/// separated by spaces or tabs, `#` comment lines (SNAP's header) and empty lines skipped.
///
///     <out>/train.parquet   lhs, rel 0, rhs: every edge, node rows (relation `links`)
///     <out>/nodes.tsv       index<TAB>id: row of the `node` table → SNAP node id
///     <out>/snap.yaml       a TwHIN config: one `node` table, relation `links` (node → node),
///                           5 % of the edges held out for validation (`holdout_fraction`)
///
/// Rows are the node ids in increasing order. A line without exactly two integer fields is
/// an error naming the file and line. Edges are kept as directed, in file order.
///
///     let g = try SNAPImport(path: "com-amazon.ungraph.txt")
///     try g.write(to: URL(fileURLWithPath: "data/amazon"), name: "amazon")
public struct SNAPImport: Equatable, Sendable {
  public let nodes: [Int64]
  public private(set) var edges = EdgeList()

  public init(path: String) throws {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw TwHINError("\(path): cannot read the edge list (\((error as NSError).localizedDescription)); check the path")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw TwHINError("\(path): not UTF-8 text") }
    var src: [Int64] = [], dst: [Int64] = []
    var lineNumber = 0
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty || line.hasPrefix("#") { continue }
      let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard f.count == 2 else {
        throw TwHINError("\(path):\(lineNumber): expected 2 whitespace-separated node ids (src dst), found \(f.count) fields; fix the line or mark it with #")
      }
      guard let s = Int64(f[0]), let d = Int64(f[1]) else {
        throw TwHINError("\(path):\(lineNumber): node ids must be integers, found '\(f[0].prefix(40))' '\(f[1].prefix(40))'; fix the line or mark it with #")
      }
      src.append(s)
      dst.append(d)
    }
    guard !src.isEmpty else { throw TwHINError("\(path): no edges (expected `src dst` lines)") }
    nodes = Array(Set(src + dst)).sorted()
    let row = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($0.element, $0.offset) })
    for k in 0..<src.count { edges.append(lhs: row[src[k]] ?? 0, relation: 0, rhs: row[dst[k]] ?? 0) }
  }

  /// Writes the edges, node index and config under `directory`; returns the files written.
  @discardableResult
  public func write(to directory: URL, name: String, dim: Int = 64) throws -> [URL] {
    var files = try GraphImportFiles.writeEdges([("train", edges)], to: directory)
    files += try GraphImportFiles.writeIndex([("nodes.tsv", nodes)], to: directory)
    files.append(try GraphImportFiles.writeText(configYAML(dataDirectory: directory.relativePath, name: name, dim: dim), to: directory.appendingPathComponent("snap.yaml")))
    return files
  }

  public func configYAML(dataDirectory: String, name: String, dim: Int) -> String {
    let root = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
    return """
      # TwHIN on the SNAP graph \(name): \(nodes.count) nodes, \(edges.count) edges, written by `tml data snap`.
      # Row ids: \(root)/nodes.tsv. Validation: 5 % of the edges, held out of training.
      training:
        save_dir: runs/snap_\(name)
        num_epochs: 20
        num_train_steps: 10000000
        checkpoint_every_n: 100000
        train_log_every_n: 1000
        num_eval_steps: -1
      model:
        translation_optimizer:
          adagrad: {lr: 0.1}
        embeddings:
          tables:
            - name: node
              num_embeddings: \(nodes.count)
              embedding_dim: \(dim)
              data_type: fp32
              optimizer:
                adagrad: {lr: 0.1}
        relations:
          - {name: links, lhs: node, rhs: node, operator: translation}
      train_data:
        data_root: \(root)/train.parquet
        per_replica_batch_size: 256
        in_batch_negatives: 64
        global_negatives: 64
      validation_data:
        data_root: \(root)/train.parquet
        per_replica_batch_size: 256
        in_batch_negatives: 64
        global_negatives: 64
        holdout_fraction: 0.05
        eval_every_n_epochs: 5
        early_stopping_patience: 3

      """
  }
}
