/// The shape of the original's production ranker data (`segdense.json` of
/// home_recap_2022 and the data config of `recap_local_prod.yaml`), built in so that
/// benchmarks and demos need no files: continuous 6000 floats, binary 512, discrete 320,
/// three 200-d TwHIN embeddings, 13 engagement labels and meta ids, with the original's
/// feature names and truncation (continuous 2117, binary 59).
public enum ReferenceRecapData {
  public static let taskNames = [
    "recap.engagement.is_bookmarked", "recap.engagement.is_favorited",
    "recap.engagement.is_good_clicked_convo_desc_favorited_or_replied",
    "recap.engagement.is_good_clicked_convo_desc_v2", "recap.engagement.is_negative_feedback_v2",
    "recap.engagement.is_profile_clicked_and_profile_engaged", "recap.engagement.is_replied",
    "recap.engagement.is_replied_reply_engaged_by_author", "recap.engagement.is_report_tweet_clicked",
    "recap.engagement.is_retweeted", "recap.engagement.is_shared",
    "recap.engagement.is_tweet_detail_dwelled_15_sec", "recap.engagement.is_video_playback_50",
  ]

  public static let renamedFeatures: [String: String] = [
    "continuous": "home_recap_2022_cont__segdense_vals",
    "binary": "home_recap_2022_binary__segdense_vals",
    "discrete": "home_recap_2022_discrete__segdense_vals",
    "author_embedding": "original_author.timelines.twhin_author_follow_embeddings.twhin_author_follow_embeddings",
    "user_embedding": "user.timelines.twhin_user_follow_embeddings.twhin_user_follow_embeddings",
    "user_eng_embedding": "user.timelines.twhin_user_engagement_embeddings.twhin_user_engagement_embeddings",
    "meta__author_id": "meta.author_id",
    "meta__user_id": "meta.user_id",
    "meta__tweet_id": "meta.tweet_id",
  ]

  public static func schema() throws -> SegdenseSchema {
    var features: [SegdenseSchema.Feature] = [
      .init(featureName: renamedFeatures["discrete"]!, dtype: .int64List, length: 320),
      .init(featureName: renamedFeatures["continuous"]!, dtype: .floatList, length: 6000),
      .init(featureName: renamedFeatures["binary"]!, dtype: .int64List, length: 512),
    ]
    for name in ["user_eng_embedding", "author_embedding", "user_embedding"] {
      features.append(.init(featureName: renamedFeatures[name]!, dtype: .floatList, length: 200))
    }
    for name in ["meta.author_id", "meta.user_id", "meta.tweet_id"] { features.append(.init(featureName: name, dtype: .int64List, length: 1)) }
    for t in taskNames { features.append(.init(featureName: t, dtype: .int64List, length: 1)) }
    return try SegdenseSchema(features: features)
  }

  public static func dataConfig(inputs: String = "", batchSize: Int = 128) -> RecapDataConfig {
    RecapDataConfig(
      inputs: inputs, globalBatchSize: batchSize,
      segDenseSchema: .init(schemaPath: "<built-in>", renamedFeatures: renamedFeatures),
      tasks: taskNames.map { ($0, RecapDataConfig.TaskData()) },
      preprocess: PreprocessConfig(truncateAndSlice: .init(continuousFeatureTruncation: 2117, binaryFeatureTruncation: 59)))
  }
}
