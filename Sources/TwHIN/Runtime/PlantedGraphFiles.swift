import Foundation
import TMLIO
import TMLData

/// `tml twhin generate-graph`: a `PlantedGraph` written as the original's edge files plus
/// a ready-to-run config:
///
///     <dir>/train/edges-0000<k>.parquet   training edges (lhs, rel, rhs as INT64), in 2 files
///     <dir>/heldout/edges.parquet         held-out edges, for validation_data
///     <dir>/communities.tsv               ground truth: table, row, community (users: interests)
///     <dir>/planted.yaml                  a TwHIN config that trains on these files
///
/// Relation ids are the order of `PlantedGraph.relationNames` (follow, fav, reply, retweet).
///
///     let files = try PlantedGraphFiles.write(try PlantedGraph(.init()), to: URL(fileURLWithPath: "data/twhin_planted"))
public enum PlantedGraphFiles {
  public static let defaultDirectory = "data/twhin_planted"
  public static let defaultSaveDir = "runs/twhin_planted"

  @discardableResult
  public static func write(_ graph: PlantedGraph, to directory: URL, saveDir: String = defaultSaveDir, trainFiles: Int = 2) throws -> [URL] {
    var files: [URL] = []
    func edges(_ e: EdgeList, _ url: URL) throws {
      do {
        try ParquetWriter.write(path: url.path, columns: [("lhs", .int64(e.lhs.map(Int64.init))), ("rel", .int64(e.relations.map(Int64.init))),
                                                         ("rhs", .int64(e.rhs.map(Int64.init)))], rowGroupRows: 1 << 16)
      } catch let error as DataError { throw TwHINError(error.message) }
      files.append(url)
    }
    let parts = max(1, trainFiles)
    let per = (graph.train.count + parts - 1) / parts
    for k in 0..<parts {
      let r = min(k * per, graph.train.count)..<min((k + 1) * per, graph.train.count)
      let part = try EdgeList(lhs: Array(graph.train.lhs[r]), relations: Array(graph.train.relations[r]), rhs: Array(graph.train.rhs[r]))
      try edges(part, directory.appendingPathComponent("train/edges-\(String(format: "%05d", k)).parquet"))
    }
    try edges(graph.heldOut, directory.appendingPathComponent("heldout/edges.parquet"))

    var truth = "table\trow\tcommunity\tinterests\n"
    for (t, name) in PlantedGraph.tableNames.enumerated() {
      for (row, c) in graph.community[t].enumerated() {
        truth += "\(name)\t\(row)\t\(c)\t\(t == 0 ? graph.interests[row].map(String.init).joined(separator: ",") : String(c))\n"
      }
    }
    let truthURL = directory.appendingPathComponent("communities.tsv")
    let configURL = directory.appendingPathComponent("planted.yaml")
    do {
      try truth.write(to: truthURL, atomically: true, encoding: .utf8)
      try configYAML(graph.config, dataDirectory: directory.relativePath, saveDir: saveDir).write(to: configURL, atomically: true, encoding: .utf8)
    } catch { throw TwHINError("generate-graph: cannot write under \(directory.path): \(FileError.message(error))") }
    return files + [truthURL, configURL]
  }

  /// The TwHIN config for a planted graph whose files are under `dataDirectory`.
  public static func configYAML(_ g: PlantedGraph.Config, dataDirectory: String, saveDir: String) -> String {
    let root = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
    let run = root == defaultDirectory ? "configs/twhin/planted.yaml" : "\(root)/planted.yaml"
    var lines = [
      "# TwHIN on the planted graph of `tml twhin generate-graph` (\(g.users) users, \(g.authors) authors,",
      "# \(g.tweets) tweets in \(g.communities) interest communities; see docs/twhin.md). From the repository root:",
      "#   tml twhin generate-graph\(root == defaultDirectory ? "" : " --out \(root)") && tml twhin train --config \(run)",
      "runtime:",
      "  enable_amp: false",
      "training:",
      "  save_dir: \(saveDir)",
      "  num_train_steps: 100000",
      "  num_epochs: 8",
      "  checkpoint_every_n: 500",
      "  checkpoint_max_to_keep: 2",
      "  train_log_every_n: 100",
      "  num_eval_steps: -1",
      "model:",
      "  translation_optimizer:",
      "    adagrad: {lr: 0.05}",
      "  embeddings:",
      "    tables:",
    ]
    for (name, rows) in zip(PlantedGraph.tableNames, [g.users, g.authors, g.tweets]) {
      lines += ["      - name: \(name)", "        num_embeddings: \(rows)", "        embedding_dim: 32", "        data_type: fp32",
                "        optimizer:", "          rowwise_adagrad: {lr: 0.05}"]
    }
    lines += ["    tables_to_log: [user]", "  relations:"]
    for (name, rhs) in zip(PlantedGraph.relationNames, ["author", "tweet", "tweet", "tweet"]) {
      lines.append("    - {name: \(name), lhs: user, rhs: \(rhs), operator: translation}")
    }
    for (section, path) in [("train_data", "\(root)/train/*.parquet"), ("validation_data", "\(root)/heldout/edges.parquet")] {
      lines += ["\(section):", "  data_root: \(path)", "  per_replica_batch_size: 500", "  in_batch_negatives: 10", "  global_negatives: 20"]
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
