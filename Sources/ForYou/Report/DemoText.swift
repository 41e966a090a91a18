import Foundation

/// The demo's console text: summaries, the explained feed and the quality table. Pure
/// functions of the results (no timings), so the same seed prints the same text.
public enum DemoText {
  static func f(_ format: String, _ args: CVarArg...) -> String { String(format: format, arguments: args) }

  public static func networkLines(_ n: NetworkSummary) -> [String] {
    let rates = EngagementHead.allCases.map { f("%@ %.2f%%", $0.label, 100 * n.engagementRates[$0.rawValue]) }
    return [
      "\(n.users) users, \(n.authors) authors, \(n.topics) topics, \(n.tweets) tweets, \(n.follows) follows "
        + "(followers per author: median \(n.medianFollowers), max \(n.maxFollowers))",
      "impressions: \(n.impressions[0]) history, \(n.impressions[1]) train, \(n.impressions[2]) test",
      "engagement rates: " + rates.joined(separator: ", "),
    ]
  }

  static func twhinLines(graph: EngagementGraph, twhin: TrainedTwHIN) -> [String] {
    let edges = zip(graph.schema.relations, graph.edgeCounts).map { "\($0.name) \($1)" }.joined(separator: ", ")
    let e = twhin.evaluation
    var lines = ["edges: " + edges + " (\(graph.heldOut.count) held out)",
                 "loss per epoch: " + twhin.epochLosses.map { f("%.4f", $0) }.joined(separator: " ")]
    var held = f("held-out edges: sampled AUC %.3f", e.sampledAUC)
    if let all = e.allCandidates {
      held += f(", filtered MRR %.3f, Hits@10 %.3f against all %@ rows", all.mrr, all.hits[10] ?? .nan, "rhs")
    }
    lines.append(held)
    return lines
  }

  /// Per-head AUROC and RCE on held-out impressions, one column pair per ranker.
  public static func headMetrics(_ rankers: [TrainedRanker]) -> [String] {
    var lines = ["held-out metrics per head      " + rankers.map { $0.variant.title.padding(toLength: 24, withPad: " ", startingAt: 0) }.joined()]
    lines.append("                               " + rankers.map { _ in "AUROC     RCE           " }.joined())
    for h in EngagementHead.allCases {
      var line = "  " + h.label.padding(toLength: 29, withPad: " ", startingAt: 0)
      for r in rankers {
        line += f("%6.4f  %6.2f           ", r.metrics["\(h.task)/auroc"] ?? .nan, r.metrics["\(h.task)/rce"] ?? .nan)
      }
      lines.append(line)
    }
    return lines
  }

  /// The top `top` items of a feed, each with every head's probability and contribution.
  public static func feed(_ feed: Feed, top: Int) -> String {
    var lines = [f("Feed of user %d at hour %.0f: %d candidates (%d in-network, %d from TwHIN), ranked by score = Σ weight·p",
                   feed.user, feed.hour, feed.items.count, feed.inNetworkCandidates, feed.twhinCandidates)]
    for (rank, item) in feed.items.prefix(top).enumerated() {
      lines.append(f("%3d. tweet %d by author %d · %@ · %@ · %.1f h old   score %+8.3f   (true expected utility %+8.3f, interest %.2f)",
                     rank + 1, item.tweet, item.author, item.source.rawValue, item.media.name, item.ageHours, item.score,
                     item.trueExpectedUtility, item.interestMatch))
      let parts = EngagementHead.allCases.map { h in
        f("%@ %.3f→%+.3f", h.label, item.probabilities[h.rawValue], item.contributions[h.rawValue])
      }
      lines.append("      " + parts[0..<5].joined(separator: " | "))
      lines.append("      " + parts[5...].joined(separator: " | "))
    }
    return lines.joined(separator: "\n")
  }

  static func retrievalLines(_ r: RetrievalSummary, feeds: [Feed]) -> [String] {
    let n = feeds.reduce(0) { $0 + $1.items.count }
    return [
      f("%d feeds, %d candidates; mean hidden interest match: in-network %.3f, TwHIN %.3f, random out-of-network %.3f",
        feeds.count, n, r.inNetworkMatch, r.twhinMatch, r.randomOutOfNetworkMatch),
      f("NDCG@10 of these feeds (true expected utility): weighted score %.3f, chronological %.3f, random %.3f",
        r.feedNDCG.weightedScore, r.feedNDCG.chronological, r.feedNDCG.random),
    ]
  }

  /// The NDCG@10 table of the held-out orderings.
  public static func quality(_ rows: [QualityRow]) -> String {
    var lines = ["NDCG@10 on held-out impressions, per user, mean ± s.e.",
                 "  ordering                                            realised utility      expected utility",
                 "                                                      Σ w·y (true labels)   Σ w·P_true"]
    for r in rows {
      lines.append("  " + r.name.padding(toLength: 50, withPad: " ", startingAt: 0)
                   + f("  %.4f ± %.4f       %.4f ± %.4f", r.realised, r.realisedStandardError, r.expected, r.expectedStandardError))
    }
    if let u = rows.first { lines.append("  (\(u.realisedUsers) users with a non-constant realised utility, \(u.expectedUsers) for the expected one)") }
    if let g = twhinGain(rows) {
      lines.append(f("  TwHIN features, paired per user: %+.4f ± %.4f (realised), %+.4f ± %.4f (expected)",
                     g.realised.mean, g.realised.standardError, g.expected.mean, g.expected.standardError))
    }
    return lines.joined(separator: "\n")
  }

  /// NDCG@10 of the weighted score with TwHIN features minus without, paired by user.
  static func twhinGain(_ rows: [QualityRow]) -> (realised: (mean: Double, standardError: Double), expected: (mean: Double, standardError: Double))? {
    guard let a = rows.first(where: { $0.name == "weighted score: \(RankerVariant.withTwHIN.title)" }),
          let b = rows.first(where: { $0.name == "weighted score: \(RankerVariant.withoutTwHIN.title)" }) else { return nil }
    return (a.pairedDifference(b, expected: false), a.pairedDifference(b, expected: true))
  }

  /// Every feed as TSV: user, rank, tweet, author, source, score, true utility, then p and contribution per head.
  static func feedTSV(_ feeds: [Feed]) -> String {
    let heads = EngagementHead.allCases
    var text = (["user", "rank", "tweet", "author", "source", "media", "age_hours", "score", "true_expected_utility"]
                + heads.map { "p/\($0.task)" } + heads.map { "contribution/\($0.task)" }).joined(separator: "\t") + "\n"
    for feed in feeds {
      for (rank, i) in feed.items.enumerated() {
        let fields = ["\(feed.user)", "\(rank + 1)", "\(i.tweet)", "\(i.author)", i.source.rawValue, i.media.name,
                      f("%.3f", i.ageHours), "\(i.score)", "\(i.trueExpectedUtility)"]
          + i.probabilities.map { "\($0)" } + i.contributions.map { "\($0)" }
        text += fields.joined(separator: "\t") + "\n"
      }
    }
    return text
  }
}
