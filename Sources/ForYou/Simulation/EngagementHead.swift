import Recap

/// The ten Heavy Ranker heads the For You score weighs (DESIGN §7), in the order of
/// `EngagementScore.defaultWeights`, with the task name the ranker predicts, a short
/// label for tables, and Twitter's published April-2023 weight:
///
///     score = Σ_h weight_h · p_h
///
///     favorite 0.5 · retweet 1 · reply 13.5 · good profile click 12 · video playback 50 % 0.005
///     reply engaged by author 75 · good click 11 · good click v2 10 · negative feedback v2 −74 · report −369
///
///     EngagementHead.reply.task     // "recap.engagement.is_replied"
public enum EngagementHead: Int, CaseIterable, Sendable {
  case favorite, retweet, reply, goodProfileClick, videoPlayback50, replyEngagedByAuthor, goodClick, goodClickV2,
       negativeFeedbackV2, report

  /// The ranker task (tf.Example label) of this head.
  public var task: String { EngagementScore.defaultWeights[rawValue].head }

  /// The default weight of the head in the engagement score.
  public var weight: Double { EngagementScore.defaultWeights[rawValue].weight }

  /// A short name for tables and plots.
  public var label: String {
    switch self {
    case .favorite: return "fav"
    case .retweet: return "retweet"
    case .reply: return "reply"
    case .goodProfileClick: return "profile"
    case .videoPlayback50: return "video50"
    case .replyEngagedByAuthor: return "reply-engaged"
    case .goodClick: return "good-click"
    case .goodClickV2: return "good-click-v2"
    case .negativeFeedbackV2: return "neg-feedback"
    case .report: return "report"
    }
  }

  /// Σ_h weight_h · value_h over the ten heads (`values` in head order).
  public static func weightedSum<V: BinaryFloatingPoint>(_ values: [V]) -> Double {
    var s = 0.0
    for h in allCases where h.rawValue < values.count { s += h.weight * Double(values[h.rawValue]) }
    return s
  }
}
