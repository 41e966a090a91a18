import TMLTensor

/// The logging policy that produced the impressions — the timeline before any ranker:
///
///     sessions per user-day ~ Poisson(sessionsPerUserDay · activity_u), at uniform times τ
///     each session serves impressionsPerSession tweets posted in [τ − candidateWindowHours, τ):
///       with probability inNetworkShare  a followed author (uniform), then one of their recent tweets
///       otherwise                        an unfollowed author ∝ popularity π, then one of their recent tweets
///     a tweet is shown to a user at most once; engagements are drawn by `EngagementModel`
///
/// Impressions come back sorted by time and numbered in that order.
enum ImpressionLog {
  static func simulate(config c: SimulationConfig, users: [SimUser], authors: [SimAuthor], tweets: [SimTweet],
                       follows: FollowGraph, model: EngagementModel) -> [Impression] {
    var rng = RandomGenerator(seed: c.seed, stream: 0x494D)  // "IM"
    let byAuthor = TweetIndex(tweets: tweets, authors: authors.count)
    let popularity = WeightedSampler(authors.map(\.popularity))
    var out: [Impression] = []
    for (u, user) in users.enumerated() {
      var seen = Set<Int>()
      let followees = follows.followees[u]
      for day in 0..<c.days {
        let times = (0..<rng.poisson(c.sessionsPerUserDay * user.activity)).map { _ in Double(day * 24) + 24 * rng.unit() }.sorted()
        for tau in times {
          for _ in 0..<c.impressionsPerSession {
            let inNetwork = !followees.isEmpty && rng.unit() < c.inNetworkShare
            var chosen: Int? = nil
            for _ in 0..<6 {
              let a = inNetwork ? followees[rng.int(below: followees.count)] : popularity.sample(&rng)
              if !inNetwork && follows.follows(user: u, author: a) { continue }
              let recent = byAuthor.range(author: a, from: tau - c.candidateWindowHours, to: tau)
              guard !recent.isEmpty else { continue }
              let t = byAuthor.tweets[a][recent.lowerBound + rng.int(below: recent.count)]
              if seen.insert(t).inserted {
                chosen = t
                break
              }
            }
            guard let t = chosen else { continue }
            let tweet = tweets[t], author = authors[tweet.author]
            let p = model.probabilities(user: user, author: author, tweet: tweet, follows: follows.follows(user: u, author: tweet.author),
                                        ageHours: tau - tweet.createdHour)
            let bits = model.sample(p, author: author, using: &rng)
            let period: Period = tau < c.trainStartHour ? .history : (tau < c.testStartHour ? .train : .test)
            out.append(Impression(id: 0, user: u, tweet: t, hour: tau, engagements: bits,
                                  expectedUtility: EngagementModel.expectedUtility(p), period: period))
          }
        }
      }
    }
    out.sort { ($0.hour, $0.user) < ($1.hour, $1.user) }
    for i in out.indices { out[i].id = i }
    return out
  }
}
