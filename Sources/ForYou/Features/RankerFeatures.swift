/// The Heavy Ranker's input features for one (user, tweet) at an hour, in the families of
/// the original's `continuous` and `binary` segdense vectors (the ranker applies
/// sign·log1p, batch norm and clipping to the continuous ones, so raw counts are right):
///
/// continuous (48)
///   tweet.age_hours, author.followers, author.tweets_posted, user.followees
///   tweet.{impressions, <10 heads>}          engagements the tweet received so far
///   author.{impressions, <10 heads>}         the author's aggregates over all their tweets
///   user.{impressions, <10 heads>}           the user's own engagement history
///   user_author.{impressions, <10 heads>}    the pair's history ("real graph")
/// binary (7)
///   tweet.in_network (user follows author), tweet.has_image, tweet.has_video,
///   author.is_verified, user_author.has_engaged (any positive head before),
///   user_author.has_negative (negative feedback or report before), tweet.is_recent (< 6 h)
///
/// The TwHIN embeddings travel separately (`ExampleEncoder`). The hidden ground truth —
/// interests, topics, quality — is never a feature.
public enum RankerFeatures {
  static let counted = ["impressions"] + EngagementHead.allCases.map(\.label)

  public static let continuousNames: [String] =
    ["tweet.age_hours", "author.followers", "author.tweets_posted", "user.followees"]
    + ["tweet", "author", "user", "user_author"].flatMap { entity in counted.map { "\(entity).\($0)" } }

  public static let binaryNames = [
    "tweet.in_network", "tweet.has_image", "tweet.has_video", "author.is_verified",
    "user_author.has_engaged", "user_author.has_negative", "tweet.is_recent",
  ]

  /// The feature row of `user` seeing `tweet` at `hour`, from counts as of that hour.
  public static func row(user u: Int, tweet t: Int, hour: Double, network: SocialNetwork,
                         counters: EngagementCounters) -> (continuous: [Float], binary: [Int64]) {
    let tweet = network.tweets[t], a = tweet.author
    var c: [Float] = []
    c.reserveCapacity(continuousNames.count)
    c.append(Float(max(hour - tweet.createdHour, 0)))
    c.append(Float(network.follows.followers[a]))
    c.append(Float(network.tweetIndex.postedBefore(author: a, hour: hour)))
    c.append(Float(network.follows.followees[u].count))
    let pair = counters.pair(user: u, author: a)
    c.append(contentsOf: counters.tweetCounts(t))
    c.append(contentsOf: counters.authorCounts(a))
    c.append(contentsOf: counters.userCounts(u))
    c.append(contentsOf: pair)
    let p = Array(pair)
    let positive = [EngagementHead.favorite, .retweet, .reply, .goodProfileClick, .goodClick, .goodClickV2]
      .contains { p[1 + $0.rawValue] > 0 }
    let negative = p[1 + EngagementHead.negativeFeedbackV2.rawValue] + p[1 + EngagementHead.report.rawValue] > 0
    let b: [Int64] = [
      network.follows.follows(user: u, author: a) ? 1 : 0,
      tweet.media == .image ? 1 : 0,
      tweet.media == .video ? 1 : 0,
      network.authors[a].verified ? 1 : 0,
      positive ? 1 : 0,
      negative ? 1 : 0,
      hour - tweet.createdHour < 6 ? 1 : 0,
    ]
    return (c, b)
  }
}
