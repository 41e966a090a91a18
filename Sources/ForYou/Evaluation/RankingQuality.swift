import Foundation
import TMLTensor

/// One ordering of the held-out impressions and how good it is.
public struct QualityRow: Sendable {
  public var name: String
  /// Mean NDCG@10 of the realised utility Σ_h weight_h · y_h (the engagements that happened).
  public var realised: Double
  public var realisedStandardError: Double
  /// Mean NDCG@10 of the simulator's expected utility Σ_h weight_h · P_true(h).
  public var expected: Double
  public var expectedStandardError: Double
  /// Users whose lists could be scored (not all gains equal), for each column.
  public var realisedUsers: Int
  public var expectedUsers: Int
  /// Per-user NDCG@10 (NaN where undefined), aligned across rows, for paired comparisons.
  public var realisedPerUser: [Double]
  public var expectedPerUser: [Double]

  /// Mean and standard error of the per-user difference self − other, over users where both are defined.
  public func pairedDifference(_ other: QualityRow, expected: Bool) -> (mean: Double, standardError: Double) {
    let (a, b) = expected ? (expectedPerUser, other.expectedPerUser) : (realisedPerUser, other.realisedPerUser)
    let d = zip(a, b).filter { $0.isFinite && $1.isFinite }.map { $0 - $1 }
    return (RankingQuality.mean(d), RankingQuality.standardError(d))
  }
}

/// Ranking quality on held-out impressions. Each user's test-period impressions form
/// one list; every ordering ranks the list, and NDCG@10 (`NDCG`, worst-to-best
/// normalised) is averaged over users, against two ground truths:
///
///     realised   g_i = Σ_h weight_h · y_ih          (the definition: weights on the true engagements)
///     expected   g_i = Σ_h weight_h · P_true(h)     (the same without the Bernoulli noise)
///
/// Orderings: random (seeded shuffle), chronological (newest tweet first), popularity
/// (most favorites + retweets + replies when served), each ranker's weighted score
/// Σ_h weight_h · p̂_h, and the oracle (true expected utility; 1.0 on the expected column
/// by construction).
enum RankingQuality {
  static func evaluate(_ heldOut: [HeldOutImpression], scores: [(name: String, byImpression: [Int: [Float]])],
                       seed: UInt64, k: Int = 10) -> [QualityRow] {
    var byUser: [Int: [HeldOutImpression]] = [:]
    for h in heldOut { byUser[h.user, default: []].append(h) }
    let users = byUser.keys.sorted()
    var rng = RandomGenerator(seed: seed, stream: 0x5241)  // "RA"
    var orderings: [(String, ([HeldOutImpression]) -> [Double])] = [
      ("random", { list in rng.permutation(list.count).map(Double.init) }),
      ("chronological (newest first)", { $0.map(\.createdHour) }),
      ("popularity (most engaged first)", { $0.map { Double($0.popularity) } }),
    ]
    for (name, table) in scores {
      orderings.append(("weighted score: \(name)", { list in
        list.map { EngagementHead.weightedSum(table[$0.id] ?? []) }
      }))
    }
    orderings.append(("oracle: true expected utility", { $0.map(\.expectedUtility) }))
    return orderings.map { name, key in
      var realised: [Double] = [], expected: [Double] = []
      for u in users {
        let list = byUser[u]!
        let order = NDCG.order(byDescending: key(list))
        realised.append(NDCG.at(k, gains: list.map(\.realisedUtility), order: order) ?? .nan)
        expected.append(NDCG.at(k, gains: list.map(\.expectedUtility), order: order) ?? .nan)
      }
      let r = realised.filter(\.isFinite), e = expected.filter(\.isFinite)
      return QualityRow(name: name, realised: mean(r), realisedStandardError: standardError(r),
                        expected: mean(e), expectedStandardError: standardError(e),
                        realisedUsers: r.count, expectedUsers: e.count, realisedPerUser: realised, expectedPerUser: expected)
    }
  }

  static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

  static func standardError(_ x: [Double]) -> Double {
    guard x.count > 1 else { return .nan }
    let m = mean(x)
    let v = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    return (v / Double(x.count)).squareRoot()
  }
}
