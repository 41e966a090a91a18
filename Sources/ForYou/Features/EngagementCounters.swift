/// Running engagement counts — the aggregate feature families of the original ranker
/// (tweet engagement counts, author aggregates, user aggregates, user–author "real graph"
/// counts) — kept *as of* a point in time: the feature row of an impression is read
/// before that impression is recorded, so no example ever sees its own labels.
///
///     row(entity) = [impressions, n_favorite, n_retweet, …, n_report]      (11 counts)
///
///     var c = EngagementCounters(network)
///     c.record(impression)            // after reading its features
public struct EngagementCounters: Sendable {
  /// Counts per entity: impressions, then one per `EngagementHead`.
  public static let width = 1 + EngagementHead.allCases.count

  public private(set) var tweet: [Float]
  public private(set) var author: [Float]
  public private(set) var user: [Float]
  private var pairRow: [Int: Int] = [:]
  private var pairs: [Float] = []
  private let authorCount: Int
  private let tweetAuthor: [Int]

  public init(_ network: SocialNetwork) {
    let w = EngagementCounters.width
    tweet = [Float](repeating: 0, count: network.tweets.count * w)
    author = [Float](repeating: 0, count: network.authors.count * w)
    user = [Float](repeating: 0, count: network.users.count * w)
    authorCount = network.authors.count
    tweetAuthor = network.tweets.map(\.author)
  }

  /// Adds one impression and its engagements to the tweet's, author's, user's and pair's counts.
  public mutating func record(_ imp: Impression) {
    let w = EngagementCounters.width
    let a = tweetAuthor[imp.tweet]
    let key = imp.user * authorCount + a
    let p: Int
    if let row = pairRow[key] {
      p = row
    } else {
      p = pairs.count / w
      pairRow[key] = p
      pairs.append(contentsOf: repeatElement(0, count: w))
    }
    func add(_ counts: inout [Float], _ row: Int) {
      counts[row * w] += 1
      for h in EngagementHead.allCases where imp.engaged(h) { counts[row * w + 1 + h.rawValue] += 1 }
    }
    add(&tweet, imp.tweet)
    add(&author, a)
    add(&user, imp.user)
    add(&pairs, p)
  }

  /// The 11 counts of (user, author) (zeros when they never met).
  public func pair(user u: Int, author a: Int) -> ArraySlice<Float> {
    let w = EngagementCounters.width
    guard let p = pairRow[u * authorCount + a] else { return ArraySlice(repeatElement(Float(0), count: w)) }
    return pairs[(p * w)..<((p + 1) * w)]
  }

  public func tweetCounts(_ t: Int) -> ArraySlice<Float> { slice(tweet, t) }
  public func authorCounts(_ a: Int) -> ArraySlice<Float> { slice(author, a) }
  public func userCounts(_ u: Int) -> ArraySlice<Float> { slice(user, u) }

  /// favorites + retweets + replies of a tweet so far (the popularity baseline's key).
  public func engagementCount(tweet t: Int) -> Float {
    let w = EngagementCounters.width
    return tweet[t * w + 1 + EngagementHead.favorite.rawValue] + tweet[t * w + 1 + EngagementHead.retweet.rawValue]
      + tweet[t * w + 1 + EngagementHead.reply.rawValue]
  }

  private func slice(_ a: [Float], _ row: Int) -> ArraySlice<Float> {
    let w = EngagementCounters.width
    return a[(row * w)..<((row + 1) * w)]
  }
}
