import TMLANN
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
/// With `authorIndex` (an HNSW index over the author table, search breadth `annSearchBreadth`)
/// the nearest authors come from the index instead of the full scan, rescored exactly.
///
/// Retrieval goes through accounts because a new tweet has no engagement edges yet (only
/// its `authored` edge), while authors are among the best-trained rows of the graph.
struct CandidateRetrieval {
  let network: SocialNetwork
  let model: TwHINModel
  var windowHours = 24.0
  var maxInNetwork = 100
  var twhinAuthors = 15
  var tweetsPerAuthor = 4
  var twhinK = 40
  let seen: [Set<Int>]
  /// nil: the exact scan (the default); else the index's nearest authors, with this search breadth.
  var authorIndex: HNSWIndex? = nil
  var annSearchBreadth = 100

  init(network: SocialNetwork, twhin: TrainedTwHIN) { self.init(network: network, model: twhin.model) }

  init(network: SocialNetwork, model: TwHINModel) {
    self.network = network
    self.model = model
    var seen = [Set<Int>](repeating: [], count: network.users.count)
    for imp in network.impressions { seen[imp.user].insert(imp.tweet) }
    self.seen = seen
  }

  func candidates(for users: [Int], now: Double) throws -> [[Candidate]] {
    let from = now - windowHours
    let relation = EngagementGraph.Relation.self
    var nearestAuthors = [[Int]](repeating: [], count: users.count)
    if let authorIndex {
      var ann = TwHINANN(model: model)
      ann.use(authorIndex, table: model.schema.rhsTable[relation.follow.rawValue])
      for (i, u) in users.enumerated() {
        let followed = network.follows.followees[u].count
        let found = try ann.neighbors(lhs: u, relation: relation.follow.rawValue, k: twhinAuthors + followed, ef: annSearchBreadth)
        nearestAuthors[i] = Array(found.map(\.id).filter { !network.follows.follows(user: u, author: $0) }.prefix(twhinAuthors))
      }
    } else {
      try model.forEachScoreRow(lhs: users, relation: relation.follow.rawValue) { i, scores in
        var top = TopK(k: twhinAuthors)
        for a in 0..<scores.count where !network.follows.follows(user: users[i], author: a) { top.offer(id: a, score: scores[a]) }
        nearestAuthors[i] = top.sorted().map(\.id)
      }
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
