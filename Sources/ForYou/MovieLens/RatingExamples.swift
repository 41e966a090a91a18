import Foundation
import SwiftProtobuf
import TMLData
import TwHIN

/// A MovieLens rating log as the Heavy Ranker's training data (`tml data movielens
/// --ranker-examples`): one tf.Example per rating, features from `RatingFeatures` (the
/// past of the rating only), labels from the rating, split by `TemporalSplit`.
///
///     <out>/examples/train/part-0.tfrecord.gz   the training ratings (gzip TFRecords)
///     <out>/examples/test/part-0.tfrecord.gz    each user's held-out last 20 %
///     <out>/segdense.json                       the schema below
///     <out>/ranker.yaml                         a Heavy Ranker config (heads is_liked, is_loved)
///
/// | feature | dtype | length |
/// |---|---|---|
/// | `movielens_cont__segdense_vals` | float_list | 9 (`RatingFeatures.continuousNames`) |
/// | `movielens_binary__segdense_vals` | int64_list | 2 (`RatingFeatures.binaryNames`) |
/// | `is_liked` (rating ≥ 4), `is_loved` (rating = 5) | int64_list | 1 |
/// | `meta.user_id`, `meta.item_id`, `meta.timestamp` | int64_list | 1 |
public enum RatingExamples {
  public static let continuous = "movielens_cont__segdense_vals"
  public static let binary = "movielens_binary__segdense_vals"
  static let meta = ["meta.user_id", "meta.item_id", "meta.timestamp"]

  public static func schema() throws -> SegdenseSchema {
    var f: [SegdenseSchema.Feature] = [
      .init(featureName: continuous, dtype: .floatList, length: RatingFeatures.continuousNames.count),
      .init(featureName: binary, dtype: .int64List, length: RatingFeatures.binaryNames.count),
    ]
    f += RatingFeatures.labels.map { .init(featureName: $0.name, dtype: .int64List, length: 1) }
    f += meta.map { .init(featureName: $0, dtype: .int64List, length: 1) }
    return try SegdenseSchema(features: f)
  }

  /// The serialized tf.Example of rating `i` with feature row `row` (maps in sorted key order).
  public static func encode(_ log: RatingLog, _ i: Int, _ row: RatingFeatures.Row) throws -> [UInt8] {
    try encode(user: log.user[i], item: log.item[i], time: log.timestamp[i], labels: RatingFeatures.labels.map { $0.isPositive(log.rating[i]) }, row)
  }

  /// The serialized tf.Example of (user, item) at `time` with one label per `RatingFeatures.labels`.
  public static func encode(user: Int64, item: Int64, time: Int64, labels: [Bool], _ row: RatingFeatures.Row) throws -> [UInt8] {
    var features: [String: Tensorflow_Feature] = [
      continuous: .floats(row.continuous), binary: .int64s(row.binary),
      "meta.user_id": .int64s([user]), "meta.item_id": .int64s([item]), "meta.timestamp": .int64s([time]),
    ]
    for (l, y) in zip(RatingFeatures.labels, labels) { features[l.name] = .int64s([y ? 1 : 0]) }
    var options = BinaryEncodingOptions()
    options.useDeterministicOrdering = true
    return try Tensorflow_Example(features: features).serializedBytes(options: options)
  }

  /// Writes the examples, schema and ranker config under `directory`; returns the counts
  /// of train and test examples and the config's path.
  @discardableResult
  public static func write(_ log: RatingLog, to directory: URL, name: String, steps: Int = 2000) throws -> (train: Int, test: Int, config: String) {
    let split = TemporalSplit(log)
    let rows = RatingFeatures.rows(log)
    var counts: [Int] = []
    for (part, indices) in [("train", split.train), ("test", split.test)] {
      let dir = directory.appendingPathComponent("examples/\(part)")
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      let writer = try TFRecordWriter(path: dir.appendingPathComponent("part-0.tfrecord.gz").path)
      for i in indices { try writer.write(try encode(log, i, rows[i])) }
      try writer.close()
      counts.append(indices.count)
    }
    try DemoSchema.write(try schema(), to: directory.appendingPathComponent("segdense.json"))
    let file = RankerConfigFile(
      variant: .withoutTwHIN, outDirectory: directory, steps: steps, batchSize: 256, learningRate: 0.001,
      heads: RatingFeatures.labels.map(\.name), renamedFeatures: ["continuous: \(continuous)", "binary: \(binary)", "meta__user_id: meta.user_id", "meta__item_id: meta.item_id"],
      name: "ranker", title: "# Written by `tml data movielens --ranker-examples`: a Heavy Ranker on the \(name) ratings (docs/recipes/movielens.md).",
      dataDirectory: "examples")
    return (counts[0], counts[1], try file.write())
  }

  /// Writes the candidates of each test user as examples to `path` (one gzip TFRecord file),
  /// with features as of the user's **split time** — the timestamp of the user's first
  /// held-out rating — so only ratings before it are visible; `is_liked` = the item is a
  /// held-out positive (the other labels 0 unless the held-out rating says so).
  /// `candidates[n]` are item rows for `task.testUsers[n]`. Returns the examples written.
  @discardableResult
  public static func writeCandidates(_ log: RatingLog, task: RecommendationTask, candidates: [[Int]], to path: String) throws -> Int {
    var splitTime: [Int64: Int64] = [:], heldRating: [Int64: [Int64: Float]] = [:]
    for i in TemporalSplit(log).test {
      splitTime[log.user[i]] = min(splitTime[log.user[i]] ?? .max, log.timestamp[i])
      heldRating[log.user[i], default: [:]][log.item[i]] = log.rating[i]
    }
    var queries: [(user: Int64, item: Int64, time: Int64)] = []
    for (n, u) in task.testUsers.enumerated() where n < candidates.count {
      let user = task.users[u]
      for v in candidates[n] { queries.append((user, task.items[v], splitTime[user] ?? .max)) }
    }
    let rows = RatingFeatures.rows(log, queries: queries)
    try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
    let writer = try TFRecordWriter(path: path)
    for (q, row) in zip(queries, rows) {
      let r = heldRating[q.user]?[q.item]
      try writer.write(try encode(user: q.user, item: q.item, time: q.time, labels: RatingFeatures.labels.map { l in r.map { l.isPositive($0) } ?? false }, row))
    }
    try writer.close()
    return queries.count
  }
}
