/// A simulated social network with known ground truth: users with latent interests,
/// authors with topics and quality, their tweets, the follow graph, and the impressions
/// a chronological-plus-popularity timeline served, with engagements drawn from
/// `EngagementModel`. Deterministic in `config.seed`.
///
///     let net = SocialNetwork(SimulationConfig(users: 2000, seed: 7))
///     net.impressions.filter { $0.period == .test }.count
public struct SocialNetwork: Sendable {
  public let config: SimulationConfig
  public let users: [SimUser]
  public let authors: [SimAuthor]
  public let tweets: [SimTweet]
  public let follows: FollowGraph
  public let model: EngagementModel
  /// All impressions, in time order (`impressions[i].id == i`).
  public let impressions: [Impression]
  let tweetIndex: TweetIndex

  public init(_ config: SimulationConfig, model: EngagementModel = EngagementModel()) {
    self.config = config
    self.model = model
    users = Population.users(config)
    authors = Population.authors(config)
    tweets = Population.tweets(config, authors: authors)
    follows = FollowGraph(config: config, users: users, authors: authors)
    tweetIndex = TweetIndex(tweets: tweets, authors: authors.count)
    impressions = ImpressionLog.simulate(config: config, users: users, authors: authors, tweets: tweets, follows: follows, model: model)
  }

  /// The true probability of every head for `user` seeing `tweet` at `hour`.
  public func trueProbabilities(user: Int, tweet: Int, hour: Double) -> [Double] {
    let t = tweets[tweet]
    return model.probabilities(user: users[user], author: authors[t.author], tweet: t,
                               follows: follows.follows(user: user, author: t.author), ageHours: hour - t.createdHour)
  }

  /// Tweets of `author` posted in [from, to), oldest first.
  public func tweets(of author: Int, from: Double, to: Double) -> ArraySlice<Int> {
    tweetIndex.tweets[author][tweetIndex.range(author: author, from: from, to: to)]
  }

  /// Ids of all tweets posted in [from, to) (ids are in creation order).
  public func tweetIDs(from: Double, to: Double) -> Range<Int> {
    func firstAtLeast(_ x: Double) -> Int {
      var lo = 0, hi = tweets.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if tweets[mid].createdHour < x { lo = mid + 1 } else { hi = mid }
      }
      return lo
    }
    let lo = firstAtLeast(from)
    return lo..<max(lo, firstAtLeast(to))
  }
}
