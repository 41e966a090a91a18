import TwHIN

/// Counts that describe the simulated network.
public struct NetworkSummary: Sendable {
  public var users: Int
  public var authors: Int
  public var topics: Int
  public var tweets: Int
  public var follows: Int
  public var maxFollowers: Int
  public var medianFollowers: Int
  /// Impressions per period (history, train, test).
  public var impressions: [Int]
  /// Positive rate of each head over all impressions, in `EngagementHead` order.
  public var engagementRates: [Double]
}

/// How well TwHIN retrieval finds what users like: mean hidden interest match
/// θ_user[topic_tweet] of the retrieved candidates, against a random recent
/// out-of-network tweet.
public struct RetrievalSummary: Sendable {
  public var inNetworkMatch: Double
  public var twhinMatch: Double
  public var randomOutOfNetworkMatch: Double
  /// Mean NDCG@10 (expected utility) of the sampled feeds ranked by the weighted score, by
  /// recency, and at random.
  public var feedNDCG: (weightedScore: Double, chronological: Double, random: Double)
}

/// Everything one demo run measured, for the CLI, the report and the tests.
public struct DemoResult {
  public var options: DemoOptions
  public var network: NetworkSummary
  public var graphEdgeCounts: [(relation: String, edges: Int)]
  public var twhinLosses: [Float]
  public var twhinEvaluation: TwHINEvaluation
  public var rankers: [TrainedRanker]
  public var calibration: [CalibrationCurve]
  public var feeds: [Feed]
  public var retrieval: RetrievalSummary
  public var quality: [QualityRow]
  public var stageSeconds: [(stage: DemoStage, seconds: Double)]
  public var reportPath: String

  /// NDCG@10 of the weighted score with TwHIN features minus without, paired by user:
  /// (realised, expected), each mean ± standard error.
  public var twhinGain: (realised: (mean: Double, standardError: Double), expected: (mean: Double, standardError: Double))? {
    DemoText.twhinGain(quality)
  }
}
