import Foundation
import TMLData

/// The edges of one data section, ready to batch.
public struct LoadedEdges: Sendable {
  public var edges: EdgeList
  public var files: [String]
  /// Rows read from the files inside the [offset, offset + limit) window.
  public var rowsRead: Int
  /// Edges dropped by `unknown_ids: skip` (an id missing from a vocab or outside its
  /// table), per file with the first one's problem.
  public var skipped: SkippedRecords
  /// Edges dropped by `unknown_ids: skip`, all files together.
  public var skippedUnknownIDs: Int { skipped.total }
}

/// Reads a data section's edge files into an `EdgeList` of table rows (DESIGN §6, §8):
///
///     files     data_root (file, directory or glob), sorted; Parquet, CSV or TSV
///     columns   lhs, rel, rhs (renamed by `columns:`); INT64 or INT32 in Parquet; in text
///               files the relation may also be written by name
///     window    rows [offset·B, (offset + limit)·B) of the files taken in order
///               (B = per_replica_batch_size); whole Parquet files before the window are
///               skipped by their footer's row count
///     ids       rel must be a relation index of the config (or a name); lhs / rhs are rows
///               of the relation's lhs / rhs table — through that table's vocab when it has
///               one; an unknown id is an error naming file and row, or, with
///               `unknown_ids: skip`, the edge is dropped and counted per file
///
/// Empty files, missing columns, non-integer fields and unknown relations are errors
/// naming the file and the row (Parquet, 0-based) or line (text, 1-based).
///
///     let loader = EdgeLoader(schema: schema, vocabularies: [nil, nil])
///     let train = try loader.load(config.trainData, what: "train_data")
public struct EdgeLoader: Sendable {
  public let schema: GraphSchema
  /// One optional vocabulary per table, in table order.
  public let vocabularies: [Vocabulary?]

  public init(schema: GraphSchema, vocabularies: [Vocabulary?]? = nil) throws {
    let v = vocabularies ?? Array(repeating: nil, count: schema.tables.count)
    guard v.count == schema.tables.count else {
      throw TwHINError("EdgeLoader: \(v.count) vocabularies for \(schema.tables.count) tables; give one (or nil) per table")
    }
    self.schema = schema
    self.vocabularies = v
  }

  public func load(_ data: TwHINDataConfig, what: String, progress: (_ filesDone: Int, _ files: Int) -> Void = { _, _ in }) throws -> LoadedEdges {
    let files = try EdgeFiles.resolve(data.dataRoot, what: "\(what).data_root")
    let (start, limit) = data.rowRange
    let end = limit.map { start + $0 } ?? Int.max
    let relationNames = schema.relations.enumerated().map { "\($0.offset)=\($0.element.name)" }.joined(separator: ", ")
    let columns = [data.columns.lhs, data.columns.rel, data.columns.rhs]
    var edges = EdgeList()
    var position = 0, read = 0
    var skipped = SkippedRecords()
    for (k, file) in files.enumerated() {
      guard position < end else { break }
      let format = try EdgeFiles.format(of: file, configured: data.format, what: "\(what).data_root")
      if format == .parquet, start > position, let rows = try? ParquetFile(path: file).rowCount, rows > 0, position + rows <= start {
        position += rows  // wholly before the window
        progress(k + 1, files.count)
        continue
      }
      let cols = try IntegerColumns.read(
        path: file, format: format, columns: columns,
        names: (1, { name in self.schema.relations.firstIndex { $0.name == name } }, "relations: \(relationNames)"))
      guard cols.count > 0 else {
        throw TwHINError("\(file): the file has no edges; remove it from \(what).data_root or regenerate it")
      }
      let (lhs, rel, rhs) = (cols.values[0], cols.values[1], cols.values[2])
      let first = max(0, start - position), last = min(cols.count, end - position)
      if first < last {
        for i in first..<last {
          guard rel[i] >= 0 && rel[i] < schema.relations.count else {
            throw TwHINError("\(file): \(cols.origin(i)), column '\(data.columns.rel)': relation id \(rel[i]) is not a relation of the config (\(relationNames)); the config's model.relations must list the data's relations in order")
          }
          let r = Int(rel[i])
          let u: Int, v: Int
          do {
            u = try node(lhs[i], table: schema.lhsTable[r], side: "lhs", relation: r, file, cols.origin(i), data)
            v = try node(rhs[i], table: schema.rhsTable[r], side: "rhs", relation: r, file, cols.origin(i), data)
          } catch let e as UnknownID {
            guard data.unknownIds == .skip else { throw TwHINError("\(e.problem); \(e.fix)") }
            skipped.add(file: file, beforeRecord: i, unparseable: true, message: e.problem)
            continue
          }
          edges.append(lhs: u, relation: r, rhs: v)
        }
        read += last - first
      }
      position += cols.count
      progress(k + 1, files.count)
    }
    if read == 0 {
      throw TwHINError("\(what): no edges in the window of \(what) (offset \(data.offset ?? 0) × \(data.perReplicaBatchSize) = edge \(start), \(limit.map { "limit \($0) batches" } ?? "no limit")): the files of \(data.dataRoot) hold \(position) edges; lower offset or check data_root")
    }
    if edges.count == 0 {
      throw TwHINError("\(what): every one of the \(read) edges was skipped for unknown ids (first: \(skipped.files.first?.firstError ?? "none")); check the vocabularies and num_embeddings")
    }
    return LoadedEdges(edges: edges, files: files, rowsRead: read, skipped: skipped)
  }

  /// An id with no table row: what is wrong (file, row, column, id) and what to do.
  private struct UnknownID: Error {
    var problem: String
    var fix: String
  }

  /// The table row of raw id `id`, or `UnknownID`.
  private func node(_ id: Int64, table: Int, side: String, relation r: Int, _ file: String, _ origin: String,
                    _ data: TwHINDataConfig) throws -> Int {
    let spec = schema.tables[table]
    let relation = schema.relations[r].name
    let column = side == "lhs" ? data.columns.lhs : data.columns.rhs
    if let vocab = vocabularies[table] {
      if let row = vocab.row(of: id) { return row }
      throw UnknownID(problem: "\(file): \(origin), column '\(column)': \(side) id \(id) of relation \"\(relation)\" is not in the vocab of table \"\(spec.name)\" (\(vocab.count) ids)",
                      fix: "add it to the vocab, or set unknown_ids: skip to drop such edges")
    }
    if id >= 0 && id < Int64(spec.numEmbeddings) { return Int(id) }
    throw UnknownID(problem: "\(file): \(origin), column '\(column)': \(side) id \(id) of relation \"\(relation)\" is outside table \"\(spec.name)\" (rows 0..<\(spec.numEmbeddings))",
                    fix: "remap the ids to rows (a vocab), enlarge num_embeddings, or set unknown_ids: skip")
  }
}
