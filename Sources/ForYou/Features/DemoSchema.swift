import Foundation
import TMLData

/// The tf.Example layout of the demo's Heavy Ranker data, written as `segdense.json`:
///
/// | feature | dtype | length |
/// |---|---|---|
/// | `foryou_cont__segdense_vals` | float_list | 48 (`RankerFeatures.continuousNames`) |
/// | `foryou_binary__segdense_vals` | int64_list | 7 (`RankerFeatures.binaryNames`) |
/// | `user.timelines.twhin_user_follow_embeddings.…` | float_list | TwHIN dim (user table) |
/// | `user.timelines.twhin_user_engagement_embeddings.…` | float_list | TwHIN dim (user_eng table) |
/// | `original_author.timelines.twhin_author_follow_embeddings.…` | float_list | TwHIN dim (author table) |
/// | the ten `recap.engagement.is_*` labels | int64_list | 1 |
/// | `meta.user_id`, `meta.tweet_id`, `meta.author_id`, `meta.impression_id` | int64_list | 1 |
///
/// The embedding feature names are production's, so the ranker config's
/// `renamed_features` read like the original's.
public enum DemoSchema {
  public static let continuous = "foryou_cont__segdense_vals"
  public static let binary = "foryou_binary__segdense_vals"
  public static let userEmbedding = "user.timelines.twhin_user_follow_embeddings.twhin_user_follow_embeddings"
  public static let userEngEmbedding = "user.timelines.twhin_user_engagement_embeddings.twhin_user_engagement_embeddings"
  public static let authorEmbedding = "original_author.timelines.twhin_author_follow_embeddings.twhin_author_follow_embeddings"
  /// Model input name (`renamed_features` key) → feature name of the meta ids.
  public static let meta: [(input: String, feature: String)] = [
    ("meta__user_id", "meta.user_id"), ("meta__tweet_id", "meta.tweet_id"),
    ("meta__author_id", "meta.author_id"), ("meta__impression_id", "meta.impression_id"),
  ]

  public static func schema(embeddingDim d: Int) throws -> SegdenseSchema {
    var f: [SegdenseSchema.Feature] = [
      .init(featureName: continuous, dtype: .floatList, length: RankerFeatures.continuousNames.count),
      .init(featureName: binary, dtype: .int64List, length: RankerFeatures.binaryNames.count),
      .init(featureName: userEmbedding, dtype: .floatList, length: d),
      .init(featureName: userEngEmbedding, dtype: .floatList, length: d),
      .init(featureName: authorEmbedding, dtype: .floatList, length: d),
    ]
    f += EngagementHead.allCases.map { .init(featureName: $0.task, dtype: .int64List, length: 1) }
    f += meta.map { .init(featureName: $0.feature, dtype: .int64List, length: 1) }
    return try SegdenseSchema(features: f)
  }

  /// Writes `{"schema": [{feature_name, dtype, length}, …]}`.
  static func write(_ schema: SegdenseSchema, to url: URL) throws {
    let rows = schema.features.map {
      "    {\"feature_name\": \"\($0.featureName)\", \"dtype\": \"\($0.dtype.rawValue)\", \"length\": \($0.length)}"
    }
    try ("{\n  \"schema\": [\n" + rows.joined(separator: ",\n") + "\n  ]\n}\n").write(to: url, atomically: true, encoding: .utf8)
  }

  /// Writes `features.tsv`: index, vector, name of every continuous and binary column.
  static func writeFeatureNames(to url: URL) throws {
    var text = "vector\tindex\tname\n"
    for (i, n) in RankerFeatures.continuousNames.enumerated() { text += "continuous\t\(i)\t\(n)\n" }
    for (i, n) in RankerFeatures.binaryNames.enumerated() { text += "binary\t\(i)\t\(n)\n" }
    try text.write(to: url, atomically: true, encoding: .utf8)
  }
}
