import Foundation

/// A table's vocabulary: raw entity ids → rows of the table (the original's
/// `EmbeddingBagConfig.vocab`, "parquet files of mapping from entity ID to table index").
///
/// Files (a file, directory or glob; Parquet, CSV or TSV by extension) with an `id`
/// column of raw ids and, optionally, an `index` column of table rows; without `index`,
/// the ids are numbered 0, 1, 2, … in file order (files sorted by name). Every row must be
/// inside the table and every id must appear once.
///
///     let vocab = try Vocabulary(path: "data/vocab/user", table: "user", rows: 424_241)
///     vocab.row(of: 1_234_567_890)   // 17, or nil when unknown
///     vocab.id(ofRow: 17)            // 1_234_567_890
public struct Vocabulary: Sendable {
  public let table: String
  public let rows: Int
  private var rowByID: [Int64: Int32] = [:]
  /// Raw id of each row (-1 where no id maps to it).
  public private(set) var idByRow: [Int64]

  public var count: Int { rowByID.count }

  public init(path: String, table: String, rows: Int, format: TwHINEdgeFormat? = nil) throws {
    self.table = table
    self.rows = rows
    idByRow = [Int64](repeating: -1, count: rows)
    let what = "model.embeddings.tables[\(table)].vocab"
    var next = 0
    for file in try EdgeFiles.resolve(path, what: what) {
      let f = try EdgeFiles.format(of: file, configured: format, what: what)
      let hasIndex = try Self.hasIndexColumn(file, f)
      let cols = try IntegerColumns.read(path: file, format: f, columns: hasIndex ? ["id", "index"] : ["id"])
      for i in 0..<cols.count {
        let id = cols.values[0][i]
        let row = hasIndex ? Int(cols.values[1][i]) : next + i
        guard row >= 0 && row < rows else {
          throw TwHINError("\(file): \(cols.origin(i)): vocab index \(row) (id \(id)) is outside table \"\(table)\" (rows 0..<\(rows)); enlarge num_embeddings or fix the vocab")
        }
        guard rowByID.updateValue(Int32(row), forKey: id) == nil else {
          throw TwHINError("\(file): \(cols.origin(i)): id \(id) appears twice in the vocab of table \"\(table)\"; each id needs one row")
        }
        idByRow[row] = id
      }
      next += cols.count
    }
  }

  static func hasIndexColumn(_ file: String, _ format: TwHINEdgeFormat) throws -> Bool {
    try IntegerColumns.columnNames(path: file, format: format).contains("index")
  }

  public func row(of id: Int64) -> Int? { rowByID[id].map(Int.init) }

  public func id(ofRow row: Int) -> Int64? {
    guard row >= 0 && row < rows, idByRow[row] >= 0 else { return nil }
    return idByRow[row]
  }
}
