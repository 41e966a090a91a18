import Foundation
import TMLTensor

/// A simulated user: latent topic interests θ (a probability vector over topics), an
/// engagement propensity b and a session activity multiplier:
///
///     θ = 0.6·e_primary + 0.3·e_secondary + 0.1/K·𝟙      (primary ≠ secondary, uniform)
///     b ~ N(0, 0.4²)           activity = exp(N(0, 0.5²))
///
/// The primary topic is the user's community.
public struct SimUser: Sendable {
  public var interests: [Double]
  public var primaryTopic: Int
  public var secondaryTopic: Int
  public var propensity: Double
  public var activity: Double
}

/// A simulated author: a topic, a latent quality q, a heavy-tailed popularity π (which
/// drives follows and out-of-network serving), a responsiveness ρ (how often they engage
/// with replies), media habits and a posting rate:
///
///     q ~ N(0, 1)        π = Pareto(α = 1.2) · exp(0.5·q)        ρ ~ U(0, 1)
///     verified = q + N(0, 0.5²) > 1        image rate ~ U(0.1, 0.5)   video rate ~ U(0, 0.4)
///     tweets per day = rate · exp(N(−0.245, 0.7²))   (mean `tweetsPerAuthorDay`)
public struct SimAuthor: Sendable {
  public var topic: Int
  public var quality: Double
  public var popularity: Double
  public var responsiveness: Double
  public var verified: Bool
  public var imageRate: Double
  public var videoRate: Double
  public var tweetsPerDay: Double
}

/// What a tweet carries besides text.
public enum MediaType: Int, Sendable, CaseIterable {
  case text, image, video
  public var name: String { ["text", "image", "video"][rawValue] }
}

/// A simulated tweet: its author, topic (the author's with probability 0.85, else
/// uniform), media, creation hour and quality q_t = q_author + N(0, 0.5²). Ids are in
/// creation order.
public struct SimTweet: Sendable {
  public var id: Int
  public var author: Int
  public var topic: Int
  public var media: MediaType
  public var createdHour: Double
  public var quality: Double
}

/// Draws the users, authors and tweets of a `SimulationConfig`, each from its own random
/// stream of the seed.
enum Population {
  static func users(_ c: SimulationConfig) -> [SimUser] {
    var rng = RandomGenerator(seed: c.seed, stream: 0x5553)  // "US"
    let k = c.topics
    return (0..<c.users).map { _ in
      let primary = rng.int(below: k)
      var secondary = rng.int(below: k - 1)
      if secondary >= primary { secondary += 1 }
      var theta = [Double](repeating: 0.1 / Double(k), count: k)
      theta[primary] += 0.6
      theta[secondary] += 0.3
      return SimUser(interests: theta, primaryTopic: primary, secondaryTopic: secondary,
                     propensity: 0.4 * Double(rng.normal()), activity: rng.logNormal(mu: 0, sigma: 0.5))
    }
  }

  static func authors(_ c: SimulationConfig) -> [SimAuthor] {
    var rng = RandomGenerator(seed: c.seed, stream: 0x4155)  // "AU"
    return (0..<c.authors).map { i in
      let q = Double(rng.normal())
      let verified = q + 0.5 * Double(rng.normal()) > 1
      return SimAuthor(
        topic: i % c.topics, quality: q, popularity: rng.pareto(alpha: 1.2) * Foundation.exp(0.5 * q),
        responsiveness: rng.unit(), verified: verified, imageRate: 0.1 + 0.4 * rng.unit(), videoRate: 0.4 * rng.unit(),
        tweetsPerDay: c.tweetsPerAuthorDay * rng.logNormal(mu: -0.245, sigma: 0.7))
    }
  }

  /// Every author posts Poisson(tweets per day) tweets a day at uniform times; tweets are
  /// then numbered in creation order.
  static func tweets(_ c: SimulationConfig, authors: [SimAuthor]) -> [SimTweet] {
    var rng = RandomGenerator(seed: c.seed, stream: 0x5457)  // "TW"
    var out: [SimTweet] = []
    for (a, author) in authors.enumerated() {
      for day in 0..<c.days {
        for _ in 0..<rng.poisson(author.tweetsPerDay) {
          let topic = rng.unit() < 0.85 ? author.topic : rng.int(below: c.topics)
          let u = rng.unit()
          let media: MediaType = u < author.videoRate ? .video : (u < author.videoRate + author.imageRate ? .image : .text)
          out.append(SimTweet(id: 0, author: a, topic: topic, media: media, createdHour: Double(day * 24) + 24 * rng.unit(),
                              quality: author.quality + 0.5 * Double(rng.normal())))
        }
      }
    }
    out.sort { ($0.createdHour, $0.author) < ($1.createdHour, $1.author) }
    for i in out.indices { out[i].id = i }
    return out
  }
}
