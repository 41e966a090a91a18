/// The stages of the demo, in order.
public enum DemoStage: Int, CaseIterable, Sendable {
  case simulate, twhin, examples, ranker, feed, quality, report

  public var title: String {
    switch self {
    case .simulate: return "1. Simulate a social network"
    case .twhin: return "2. Train TwHIN on the follow + engagement graph"
    case .examples: return "3a. Build Heavy Ranker examples (segdense tf.Example TFRecords)"
    case .ranker: return "3b. Train and evaluate the Heavy Ranker (with and without TwHIN)"
    case .feed: return "4. Retrieve, score and rank feeds"
    case .quality: return "5. Ranking quality on held-out impressions"
    case .report: return "6. Write the report"
    }
  }
}

/// What the demo reports while it runs (the library never prints; the CLI does).
public enum DemoEvent {
  case started(DemoStage)
  /// A stage finished, with summary lines to show.
  case finished(DemoStage, seconds: Double, summary: [String])
  case twhinEpoch(epoch: Int, of: Int, loss: Float)
  case examplesProgress(done: Int, total: Int)
  case rankerTraining(RankerVariant, step: Int, total: Int, loss: Double?)
}
