import Foundation
import Recap
import TMLData

/// One tweet of a ranked feed, with the explanation of its score: each head's
/// probability p_h and its contribution weight_h · p_h, which sum to the score — and, since
/// the network is simulated, the true expected utility Σ_h weight_h · P_true(h).
public struct FeedItem: Sendable {
  public var tweet: Int
  public var author: Int
  public var source: CandidateSource
  public var media: MediaType
  public var ageHours: Double
  /// Calibrated probability of each head, in `EngagementHead` order.
  public var probabilities: [Double]
  /// weight_h · p_h, in `EngagementHead` order.
  public var contributions: [Double]
  public var score: Double
  public var trueExpectedUtility: Double
  /// θ_user[topic_tweet], the hidden interest match.
  public var interestMatch: Double
}

/// A user's ranked feed: every candidate, best score first.
public struct Feed: Sendable {
  public var user: Int
  public var hour: Double
  public var items: [FeedItem]
  public var inNetworkCandidates: Int { items.filter { $0.source == .inNetwork }.count }
  public var twhinCandidates: Int { items.filter { $0.source == .twhin }.count }
}

/// Scores candidates the way serving does: each (user, tweet) becomes a tf.Example with
/// features as of `hour`, parsed by the ranker's own `RecapBatchBuilder`, scored by the
/// Heavy Ranker, and ranked by the weighted engagement score
///
///     score = Σ_h weight_h · p_h            (`EngagementScore`, Twitter's weights)
///
/// ties broken by tweet id, newest first.
struct FeedRanker {
  let ranker: TrainedRanker
  let encoder: ExampleEncoder
  let counters: EngagementCounters
  let builder: RecapBatchBuilder
  let score = EngagementScore()

  init(ranker: TrainedRanker, encoder: ExampleEncoder, counters: EngagementCounters) throws {
    self.ranker = ranker
    self.encoder = encoder
    self.counters = counters
    builder = try RecapBatchBuilder(schema: ranker.run.schema, config: ranker.run.trainData)
  }

  func rank(user: Int, candidates: [Candidate], hour: Double) throws -> Feed {
    guard !candidates.isEmpty else { return Feed(user: user, hour: hour, items: []) }
    let network = encoder.network
    let records = try candidates.enumerated().map { i, c in
      RawRecord(bytes: try encoder.encode(user: user, tweet: c.tweet, hour: hour, counters: counters, impression: -1, engagements: nil),
                file: "feed of user \(user)", index: i)
    }
    let p = try ranker.probabilities(try builder.build(records))
    let heads = EngagementHead.allCases
    var items: [FeedItem] = []
    for (i, c) in candidates.enumerated() {
      let probs = heads.map { Double(p[i * heads.count + $0.rawValue]) }
      let s = score.score(Dictionary(uniqueKeysWithValues: heads.map { ($0.task, probs[$0.rawValue]) }))
      let byHead = Dictionary(uniqueKeysWithValues: s.contributions.map { ($0.head, $0.value) })
      let tweet = network.tweets[c.tweet]
      items.append(FeedItem(
        tweet: c.tweet, author: tweet.author, source: c.source, media: tweet.media, ageHours: hour - tweet.createdHour,
        probabilities: probs, contributions: heads.map { byHead[$0.task] ?? 0 }, score: s.score,
        trueExpectedUtility: EngagementModel.expectedUtility(network.trueProbabilities(user: user, tweet: c.tweet, hour: hour)),
        interestMatch: network.users[user].interests[tweet.topic]))
    }
    items.sort { ($0.score, $0.tweet) > ($1.score, $1.tweet) }
    return Feed(user: user, hour: hour, items: items)
  }
}
