/// The production Heavy Ranker of `recap_local_prod.yaml`, as a model spec: 2117
/// continuous and 59 binary features (after truncation), three 200-d TwHIN embeddings,
/// a parallel MaskNet backbone of 4 blocks (aggregation 1024, output 1024) with an MLP
/// [2048], and 10 towers 256-128-1 with batch norm (dropout 0.1 on negative feedback, 0.2
/// on report clicks, as the config).
/// ≈ 96 MFLOP per example forward.
public enum ProductionArchitecture {
  public static let towerTasks = [
    "recap.engagement.is_favorited", "recap.engagement.is_good_clicked_convo_desc_favorited_or_replied",
    "recap.engagement.is_good_clicked_convo_desc_v2", "recap.engagement.is_negative_feedback_v2",
    "recap.engagement.is_profile_clicked_and_profile_engaged", "recap.engagement.is_replied",
    "recap.engagement.is_replied_reply_engaged_by_author", "recap.engagement.is_report_tweet_clicked",
    "recap.engagement.is_retweeted", "recap.engagement.is_video_playback_50",
  ]

  /// The towers with dropout in `recap_local_prod.yaml`, and its rate.
  public static let dropout: [String: Float] = ["recap.engagement.is_negative_feedback_v2": 0.1,
                                                "recap.engagement.is_report_tweet_clicked": 0.2]

  public static func spec() -> MultiTaskRankingModel.Spec {
    let block = MaskNet.BlockSpec(outputSize: 1024, aggregationSize: 1024, inputLayerNorm: false)
    return MultiTaskRankingModel.Spec(
      continuousFeatures: 2117, binaryFeatures: 59, batchNorm: .init(affine: true, momentum: 0.01), clipMagnitude: 5,
      layerNorm: (0, true), userEmbeddingDim: 200, userEngEmbeddingDim: 200, authorEmbeddingDim: 200,
      multiTaskType: .shareAll,
      backbone: .maskNet(blocks: Array(repeating: block, count: 4), mlp: MLPSpec(layerSizes: [2048], finalLayerActivation: true), useParallel: true),
      tasks: towerTasks.map { name in
        let tower = MLPSpec(layerSizes: [256, 128, 1], batchNorm: .init(affine: false, momentum: 0.1),
                            dropout: dropout[name])
        return .init(name: name, architecture: .mlp(tower))
      })
  }
}
