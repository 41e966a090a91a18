import TMLData

/// The `metrics.jsonl` record of input records skipped under `ignore_data_errors`
/// (docs/recap.md, "metrics.jsonl"): one line per input file with skipped records,
///
///     {"kind": "skipped_records", "step": 100, "time": …, "records": 3,
///      "dataset": "train", "file": "data/part-2.tfrecord.gz", "first_error": "…"}
///
/// where `records` is the file's count so far; train and eval lines carry the total over
/// all files as `data/skipped_records`.
extension MetricsLog {
  /// The train / eval line value: records skipped so far, all files together.
  public static let skippedRecordsKey = "data/skipped_records"

  public func appendSkipped(_ file: SkippedRecords.File, dataset: String, step: Int) throws {
    try append(kind: "skipped_records", step: step, ["records": Double(file.count)],
               text: ["dataset": dataset, "file": file.path, "first_error": file.firstError])
  }
}
