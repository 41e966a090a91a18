import Foundation
import TMLData

/// A rating log as TwHIN's user–item graph (`tml data movielens`):
///
///     <out>/train.parquet   lhs (user row), rel 0, rhs (item row): every training rating
///                           (relation `rated`), or with `likedOnly` only ratings ≥ 4 (`liked`)
///     <out>/test.parquet    the held-out ratings ≥ 4 (the test positives), same relation
///     <out>/users.tsv       index<TAB>id: row of the `user` table → MovieLens user id
///     <out>/items.tsv       index<TAB>id: row of the `item` table → MovieLens item id
///     <out>/movielens.yaml  a TwHIN config in the original schema
///
/// The split is `TemporalSplit` (each user's last 20 % by time held out). Rows are the
/// ids in increasing order, every user and item of the whole log (an item rated only in
/// the test period gets a row that training never moves). The config validates on 5 %
/// of the training edges (`holdout_fraction`), never on the test edges.
///
///     let g = try RatingGraphImport(log: try RatingLog(path: "u.data"))
///     try g.write(to: URL(fileURLWithPath: "data/ml-100k"), name: "ml-100k")
public struct RatingGraphImport: Equatable, Sendable {
  /// A rating of at least this is a positive (`liked`, and a test positive).
  public static let likedThreshold: Float = 4
  public let users: [Int64]
  public let items: [Int64]
  public let relation: String
  public private(set) var train = EdgeList()
  public private(set) var test = EdgeList()

  public init(log: RatingLog, likedOnly: Bool = false, testFraction: Double = 0.2) {
    users = Array(Set(log.user)).sorted()
    items = Array(Set(log.item)).sorted()
    relation = likedOnly ? "liked" : "rated"
    let userRow = Dictionary(uniqueKeysWithValues: users.enumerated().map { ($0.element, $0.offset) })
    let itemRow = Dictionary(uniqueKeysWithValues: items.enumerated().map { ($0.element, $0.offset) })
    let split = TemporalSplit(log, testFraction: testFraction)
    for i in split.train where !likedOnly || log.rating[i] >= Self.likedThreshold {
      train.append(lhs: userRow[log.user[i]] ?? 0, relation: 0, rhs: itemRow[log.item[i]] ?? 0)
    }
    for i in split.test where log.rating[i] >= Self.likedThreshold {
      test.append(lhs: userRow[log.user[i]] ?? 0, relation: 0, rhs: itemRow[log.item[i]] ?? 0)
    }
  }

  /// Writes the edges, vocabularies and config under `directory`; returns the files written.
  @discardableResult
  public func write(to directory: URL, name: String, dim: Int = 64) throws -> [URL] {
    guard train.count > 0 else { throw TwHINError("\(name): no training edges (every rating was held out or below \(Self.likedThreshold))") }
    var files = try GraphImportFiles.writeEdges([("train", train), ("test", test)], to: directory)
    files += try GraphImportFiles.writeIndex([("users.tsv", users), ("items.tsv", items)], to: directory)
    files.append(try GraphImportFiles.writeText(configYAML(dataDirectory: directory.relativePath, name: name, dim: dim), to: directory.appendingPathComponent("movielens.yaml")))
    return files
  }

  /// Two tables (`user`, `item`), one relation user → item with the `translation` operator,
  /// Adagrad lr 0.1, 128 uniform negatives per side and no in-batch ones (on ml-100k, NDCG@10
  /// 0.107 against 0.092 with 64 + 64; docs/recipes/movielens.md), 5 % of the training edges
  /// for validation with early stopping, the test positives as `test_data`.
  public func configYAML(dataDirectory: String, name: String, dim: Int) -> String {
    let root = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
    var lines = [
      "# TwHIN on the \(name) rating log: \(users.count) users, \(items.count) items, \(train.count) `\(relation)` training edges,",
      "# \(test.count) held-out positives (rating ≥ 4 in each user's last 20 % by time), written by `tml data movielens`.",
      "# Row ids: \(root)/users.tsv, \(root)/items.tsv. See docs/recipes/movielens.md.",
      "training:",
      "  save_dir: runs/movielens_\(name)",
      "  num_epochs: 50",
      "  num_train_steps: 10000000",
      "  checkpoint_every_n: 100000",
      "  train_log_every_n: 1000",
      "  num_eval_steps: -1",
      "model:",
      "  translation_optimizer:",
      "    adagrad: {lr: 0.1}",
      "  embeddings:",
      "    tables:",
    ]
    for (table, rows) in [("user", users.count), ("item", items.count)] {
      lines += ["      - name: \(table)", "        num_embeddings: \(rows)", "        embedding_dim: \(dim)", "        data_type: fp32",
                "        optimizer:", "          adagrad: {lr: 0.1}"]
    }
    lines += ["  relations:", "    - {name: \(relation), lhs: user, rhs: item, operator: translation}"]
    for (section, file, extra) in [("train_data", "train", []), ("validation_data", "train", ["  holdout_fraction: 0.05", "  eval_every_n_epochs: 5", "  early_stopping_patience: 3"]),
                                   ("test_data", "test", [])] {
      lines += ["\(section):", "  data_root: \(root)/\(file).parquet", "  per_replica_batch_size: 256",
                "  in_batch_negatives: 0", "  global_negatives: 128"] + extra
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// The files an importer writes: Parquet edge splits, `index<TAB>id` tables, text.
enum GraphImportFiles {
  static func writeEdges(_ splits: [(String, EdgeList)], to directory: URL) throws -> [URL] {
    try wrapping(directory) {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      return try splits.map { split, e in
        let url = directory.appendingPathComponent("\(split).parquet")
        try ParquetWriter.write(path: url.path, columns: [("lhs", .int64(e.lhs.map(Int64.init))), ("rel", .int64(e.relations.map(Int64.init))),
                                                         ("rhs", .int64(e.rhs.map(Int64.init)))], rowGroupRows: 1 << 16)
        return url
      }
    }
  }

  static func writeIndex(_ tables: [(String, [Int64])], to directory: URL) throws -> [URL] {
    try tables.map { file, ids in
      try writeText("index\tid\n" + ids.enumerated().map { "\($0.offset)\t\($0.element)\n" }.joined(), to: directory.appendingPathComponent(file))
    }
  }

  static func writeText(_ text: String, to url: URL) throws -> URL {
    try wrapping(url) {
      try text.write(to: url, atomically: true, encoding: .utf8)
      return url
    }
  }

  /// Reads an `index<TAB>id` file back: the id of each row.
  static func readIndex(_ path: String) throws -> [Int64] {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
      throw TwHINError("\(path): cannot read the index file (\((error as NSError).localizedDescription)); run `tml data movielens` first")
    }
    var ids: [Int64] = []
    for (n, line) in text.split(separator: "\n").enumerated().dropFirst() {
      let f = line.split(separator: "\t")
      guard f.count == 2, Int(f[0]) == ids.count, let id = Int64(f[1]) else {
        throw TwHINError("\(path):\(n + 1): expected \"\(ids.count)<TAB>id\"; the file is damaged, re-run the import")
      }
      ids.append(id)
    }
    return ids
  }

  private static func wrapping<T>(_ url: URL, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as DataError {
      throw TwHINError(e.message)
    } catch let e as TwHINError {
      throw e
    } catch {
      throw TwHINError("\(url.path): cannot write the imported graph (\((error as NSError).localizedDescription))")
    }
  }
}
