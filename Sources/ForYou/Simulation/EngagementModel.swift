import Foundation
import TMLTensor

/// The ground truth: the probability of each engagement head when user u is shown tweet t
/// (by author a) `age` hours after it was posted. With
///
///     m = θ_u[topic_t]  interest match ∈ [0.01, 0.71]      q = q_t  tweet quality
///     f = [u follows a]     r = exp(−age / 12)  freshness     b = b_u  user propensity
///
/// each head h except video and reply-engaged-by-author is a logistic model
///
///     P(h) = σ(bias + c_m·m + c_x·(1 − m) + c_q·q + c_f·f + c_n·(1 − f) + c_r·r + c_i·[image] + c_b·b)
///
/// | head | bias | m | 1−m | q | f | 1−f | fresh | image | b |
/// |---|---|---|---|---|---|---|---|---|---|
/// | favorite | −4.0 | 4.5 | | 0.6 | 0.5 | | 0.5 | 0.3 | 1 |
/// | retweet | −5.0 | 4.0 | | 1.0 | 0.3 | | 0.3 | | 1 |
/// | reply | −5.8 | 4.5 | | 0.3 | 0.8 | | 0.3 | | 1 |
/// | good profile click | −5.5 | 3.0 | | 0.5 | | 1.0 | | | 1 |
/// | video playback 50 % (video tweets only, else 0) | −1.0 | 3.0 | | 0.3 | | | | | 1 |
/// | good click | −5.0 | 4.0 | | 0.6 | | | 0.4 | | 1 |
/// | good click v2 | −4.6 | 3.5 | | 0.5 | | | 0.3 | | 1 |
/// | negative feedback v2 | −6.0 | | 3.0 | −0.8 | −0.7 | | | | |
/// | report | −8.5 | | 2.0 | −2.0 | | | | | |
///
/// and the author answers a reply with probability σ(−2.5 + 4·ρ_a):
/// P(reply engaged by author) = P(reply) · σ(−2.5 + 4ρ_a). Interest match drives the
/// positive heads, mismatch and low quality the negative ones. Draws are independent
/// Bernoullis given these probabilities, except that reply-engaged-by-author needs a reply.
/// The true expected utility of an impression is Σ_h weight_h · P(h).
public struct EngagementModel: Sendable {
  /// One row of the table above.
  public struct Coefficients: Sendable {
    public var bias = 0.0, match = 0.0, mismatch = 0.0, quality = 0.0, follows = 0.0, notFollows = 0.0
    public var fresh = 0.0, image = 0.0, propensity = 0.0
  }

  /// Rows in `EngagementHead` order (the reply-engaged-by-author row is unused: see `authorReply`).
  public var heads: [Coefficients]
  /// P(author engages with a reply) = σ(bias + slope·ρ).
  public var authorReply: (bias: Double, slope: Double) = (-2.5, 4.0)
  /// Hours over which freshness decays by e.
  public var freshnessHours = 12.0

  public init() {
    func c(_ bias: Double, m: Double = 0, x: Double = 0, q: Double = 0, f: Double = 0, n: Double = 0, r: Double = 0,
           i: Double = 0, b: Double = 0) -> Coefficients {
      Coefficients(bias: bias, match: m, mismatch: x, quality: q, follows: f, notFollows: n, fresh: r, image: i, propensity: b)
    }
    heads = [
      c(-4.0, m: 4.5, q: 0.6, f: 0.5, r: 0.5, i: 0.3, b: 1),  // favorite
      c(-5.0, m: 4.0, q: 1.0, f: 0.3, r: 0.3, b: 1),  // retweet
      c(-5.8, m: 4.5, q: 0.3, f: 0.8, r: 0.3, b: 1),  // reply
      c(-5.5, m: 3.0, q: 0.5, n: 1.0, b: 1),  // good profile click
      c(-1.0, m: 3.0, q: 0.3, b: 1),  // video playback 50 (video tweets only)
      c(0),  // reply engaged by author: P(reply)·σ(authorReply)
      c(-5.0, m: 4.0, q: 0.6, r: 0.4, b: 1),  // good click
      c(-4.6, m: 3.5, q: 0.5, r: 0.3, b: 1),  // good click v2
      c(-6.0, x: 3.0, q: -0.8, f: -0.7),  // negative feedback v2
      c(-8.5, x: 2.0, q: -2.0),  // report
    ]
  }

  /// P(h) for every head, in `EngagementHead` order.
  public func probabilities(user: SimUser, author: SimAuthor, tweet: SimTweet, follows: Bool, ageHours: Double) -> [Double] {
    let m = user.interests[tweet.topic]
    let f = follows ? 1.0 : 0.0
    let r = Foundation.exp(-max(ageHours, 0) / freshnessHours)
    let image = tweet.media == .image ? 1.0 : 0.0
    var p = heads.map { c -> Double in
      logistic(c.bias + c.match * m + c.mismatch * (1 - m) + c.quality * tweet.quality + c.follows * f + c.notFollows * (1 - f)
               + c.fresh * r + c.image * image + c.propensity * user.propensity)
    }
    if tweet.media != .video { p[EngagementHead.videoPlayback50.rawValue] = 0 }
    p[EngagementHead.replyEngagedByAuthor.rawValue] =
      p[EngagementHead.reply.rawValue] * logistic(authorReply.bias + authorReply.slope * author.responsiveness)
    return p
  }

  /// Draws the engagements of one impression as a bit set (bit h = head h happened).
  public func sample(_ p: [Double], author: SimAuthor, using rng: inout RandomGenerator) -> UInt16 {
    var bits: UInt16 = 0
    for h in EngagementHead.allCases where h != .replyEngagedByAuthor {
      if rng.unit() < p[h.rawValue] { bits |= 1 << UInt16(h.rawValue) }
    }
    let answered = rng.unit() < logistic(authorReply.bias + authorReply.slope * author.responsiveness)
    if bits & (1 << UInt16(EngagementHead.reply.rawValue)) != 0 && answered {
      bits |= 1 << UInt16(EngagementHead.replyEngagedByAuthor.rawValue)
    }
    return bits
  }

  /// Σ_h weight_h · P(h): the utility the For You score is meant to estimate.
  public static func expectedUtility(_ p: [Double]) -> Double { EngagementHead.weightedSum(p) }
}
