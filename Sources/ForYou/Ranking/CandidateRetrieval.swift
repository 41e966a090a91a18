import TwHIN

/// Where a feed candidate came from.
public enum CandidateSource: String, Sendable {
  /// A recent tweet of an author the user follows.
  case inNetwork = "in-network"
  /// An out-of-network tweet of one of the user's TwHIN nearest-neighbour accounts.
  case twhin = "TwHIN"
}

public struct Candidate: Sendable {
  public var tweet: Int
  public var source: CandidateSource
}

/// Candidate generation for the feed at hour `now`, over tweets posted in the last
/// `windowHours` that the user has not been shown:
///
///     in-network  tweets of followed authors, newest first, at most `maxInNetwork`
///     TwHIN       the `twhinAuthors` unfollowed authors nearest to the user,
///                     s(u, follow, a) = ⟨e_user(u), e_author(a) + t_follow⟩       (exact: GEMM + heap)
///                 then up to `tweetsPerAuthor` of each one's recent tweets, ordered by the
///                 user's engagement affinity s(u, fav, v) = ⟨e_user_eng(u), e_tweet(v) + t_fav⟩,
///                 at most `twhinK` in all
///
/// Retrieval goes through accounts because a new tweet has no engagement edges yet (only
/// its `authored` edge), while authors are among the best-trained rows of the graph.
struct CandidateRetrieval {
  let network: SocialNetwork
  let twhin: TrainedTwHIN
  var windowHours = 24.0
  var maxInNetwork = 100
  var twhinAuthors = 15
  var tweetsPerAuthor = 4
  var twhinK = 40
  let seen: [Set<Int>]

  init(network: SocialNetwork, twhin: TrainedTwHIN) {
    self.network = network
    self.twhin = twhin
    var seen = [Set<Int>](repeating: [], count: network.users.count)
    for imp in network.impressions { seen[imp.user].insert(imp.tweet) }
    self.seen = seen
  }

  func candidates(for users: [Int], now: Double) throws -> [[Candidate]] {
    let from = now - windowHours
    let model = twhin.model
    let relation = EngagementGraph.Relation.self
    var nearestAuthors = [[Int]](repeating: [], count: users.count)
    try model.forEachScoreRow(lhs: users, relation: relation.follow.rawValue) { i, scores in
      var top = TopK(k: twhinAuthors)
      for a in 0..<scores.count where !network.follows.follows(user: users[i], author: a) { top.offer(id: a, score: scores[a]) }
      nearestAuthors[i] = top.sorted().map(\.id)
    }
    var out: [[Candidate]] = []
    try model.forEachScoreRow(lhs: users, relation: relation.fav.rawValue) { i, affinity in
      let u = users[i]
      var inNetwork: [Int] = []
      for a in network.follows.followees[u] { inNetwork += network.tweets(of: a, from: from, to: now).filter { !seen[u].contains($0) } }
      inNetwork = Array(inNetwork.sorted(by: >).prefix(maxInNetwork))
      var outOfNetwork: [Int] = []
      for a in nearestAuthors[i] {
        let recent = network.tweets(of: a, from: from, to: now).filter { !seen[u].contains($0) }
        outOfNetwork += recent.sorted { (affinity[$0], $0) > (affinity[$1], $1) }.prefix(tweetsPerAuthor)
      }
      out.append(inNetwork.map { Candidate(tweet: $0, source: .inNetwork) }
                 + outOfNetwork.prefix(twhinK).map { Candidate(tweet: $0, source: .twhin) })
    }
    return out
  }
}
