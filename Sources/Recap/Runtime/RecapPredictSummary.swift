import TMLData

/// What `RecapRun.predict` did: the rows it wrote, and the input records it left out
/// because of data errors (`ignore_data_errors`), per file with each file's first error.
/// Without `ignore_data_errors` a bad record stops `predict` instead.
public struct RecapPredictSummary: Sendable {
  public var rows: Int
  public var skipped: SkippedRecords

  public init(rows: Int, skipped: SkippedRecords = SkippedRecords()) {
    self.rows = rows
    self.skipped = skipped
  }

  /// Input records with no output row.
  public var rowsNotWritten: Int { skipped.total }
}
