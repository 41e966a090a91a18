import TMLTensor

/// One batch of Heavy Ranker inputs (the original's `RecapBatch`), B examples:
///
/// | field | shape | from |
/// |---|---|---|
/// | `continuous` | [B, C] | `renamed_features.continuous` (float_list) |
/// | `binary` | [B, Bn] | `renamed_features.binary` (0/1 int64_list → float) |
/// | `discrete` | [B, D] | `renamed_features.discrete` (int64_list), optional |
/// | `userEmbedding`, `userEngEmbedding`, `authorEmbedding` | [B, 200] | optional float_list |
/// | `labels` | [B, T] | the data config's `tasks`, in config order (`taskNames`) |
/// | `weights` | [B, T] | y/pos_rate + (1 − y)/neg_rate per task, then preprocessing |
/// | `meta` | name → [B] | `meta__*` ids (int64) |
/// | `extra` | name → [B, k] | other float_list schema features (`features:`), and `extract_features` outputs |
/// | `extraInt64` | name → B·k values | other int64_list schema features (exact: timestamps, ids) |
public struct RecapBatch {
  public var size: Int
  public var continuous: Tensor
  public var binary: Tensor
  public var discrete: IndexTensor?
  public var userEmbedding: Tensor?
  public var userEngEmbedding: Tensor?
  public var authorEmbedding: Tensor?
  public var labels: Tensor
  public var weights: Tensor
  public var taskNames: [String]
  public var meta: [String: [Int64]]
  public var extra: [String: Tensor]
  public var extraInt64: [String: [Int64]]

  /// The label column of `task` (matched by name, never by position).
  public func labelColumn(_ task: String) throws -> Int {
    guard let i = taskNames.firstIndex(of: task) else {
      throw DataError("batch has no label for task \(task); the data config's tasks are: \(taskNames.joined(separator: ", "))")
    }
    return i
  }

  /// Examples `rows` (in order, repeats allowed) as a new batch.
  public func selecting(_ rows: [Int]) throws -> RecapBatch {
    let idx = IndexTensor(rows)
    var out = self
    out.size = rows.count
    out.continuous = try continuous.gatherRows(idx)
    out.binary = try binary.gatherRows(idx)
    if let d = discrete {
      let w = d.shape.count > 1 ? d.shape[1] : 1
      out.discrete = try IndexTensor(shape: [rows.count, w], values: rows.flatMap { d.values[($0 * w)..<($0 * w + w)] }, dtype: d.dtype)
    }
    out.userEmbedding = try userEmbedding?.gatherRows(idx)
    out.userEngEmbedding = try userEngEmbedding?.gatherRows(idx)
    out.authorEmbedding = try authorEmbedding?.gatherRows(idx)
    out.labels = try labels.gatherRows(idx)
    out.weights = try weights.gatherRows(idx)
    out.meta = meta.mapValues { v in rows.map { v[$0] } }
    out.extra = try extra.mapValues { try $0.gatherRows(idx) }
    out.extraInt64 = extraInt64.mapValues { v in
      let w = size > 0 ? v.count / size : 0
      return rows.flatMap { v[($0 * w)..<($0 * w + w)] }
    }
    return out
  }
}
