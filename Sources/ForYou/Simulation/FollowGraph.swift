import Foundation
import TMLTensor

/// Who follows whom: users → authors, with communities and heavy-tailed degrees.
///
///     out-degree d_u = clamp(round(followsPerUser · exp(N(0, 0.8²))), 1, authors / 2)   (log-normal)
///     each follow:  with probability followInterestShare   topic ~ θ_u, then author ∝ π within the topic
///                   otherwise                              author ∝ π over all authors
///
/// Popularity π is Pareto-tailed, so in-degrees are heavy-tailed too; drawing topics from
/// θ_u makes users of one primary topic follow the same authors (communities).
///
///     graph.follows(user: 3, author: 17)    graph.followers[17]
public struct FollowGraph: Sendable {
  /// Followed authors of each user, ascending.
  public let followees: [[Int]]
  /// Follower count of each author.
  public let followers: [Int]
  private let followSets: [Set<Int>]

  public var edgeCount: Int { followees.reduce(0) { $0 + $1.count } }

  public func follows(user: Int, author: Int) -> Bool { followSets[user].contains(author) }

  init(config c: SimulationConfig, users: [SimUser], authors: [SimAuthor]) {
    var rng = RandomGenerator(seed: c.seed, stream: 0x464F)  // "FO"
    let global = WeightedSampler(authors.map(\.popularity))
    let byTopic = (0..<c.topics).map { t -> WeightedSampler in
      let members = authors.indices.filter { authors[$0].topic == t }
      return WeightedSampler(members.map { authors[$0].popularity }, items: members)
    }
    let maxDegree = max(1, authors.count / 2)
    var lists: [[Int]] = []
    var sets: [Set<Int>] = []
    var followers = [Int](repeating: 0, count: authors.count)
    for user in users {
      let degree = min(maxDegree, max(1, Int((c.followsPerUser * rng.logNormal(mu: 0, sigma: 0.8)).rounded())))
      let topics = WeightedSampler(user.interests)
      var chosen = Set<Int>()
      var attempts = 0
      while chosen.count < degree && attempts < 20 * degree {
        attempts += 1
        let a: Int
        if rng.unit() < c.followInterestShare {
          let pool = byTopic[topics.sample(&rng)]
          a = pool.isEmpty ? global.sample(&rng) : pool.sample(&rng)
        } else {
          a = global.sample(&rng)
        }
        if chosen.insert(a).inserted { followers[a] += 1 }
      }
      lists.append(chosen.sorted())
      sets.append(chosen)
    }
    followees = lists
    followSets = sets
    self.followers = followers
  }
}
