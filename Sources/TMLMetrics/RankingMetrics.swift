/// The filtered rank of a true item among its candidates (TwHIN link prediction),
/// with the "realistic" (mean) tie rule:
///
///     rank = 1 + #{j ∉ E : c_j > s} + ½ · #{j ∉ E : c_j = s}
///
/// where s is the true item's score, c the candidates' scores and E the excluded
/// (filtered) candidates — other known true items, and the true item itself when it is
/// among the candidates. Ties count half: the mean of the optimistic rank (true item
/// first among its ties) and the pessimistic one (last), so a model that scores
/// everything equal gets the rank of a random order, (n + 2)/2 for n candidates,
/// instead of a flattering 1. (The original's `PosRanks` sorts, so its ties fall in
/// whatever order the sort leaves.) Scores may be ±∞; NaN is an error.
///
///     try Rank.realistic(score: 0.5, candidates: [0.9, 0.5, 0.1])          // 2.5
///     try Rank.realistic(score: 0.5, candidates: [0.9, 0.5, 0.1], excluding: [0])  // 1.5
public enum Rank {
  public static func realistic(score: Float, candidates: [Float], excluding: [Int] = []) throws -> Double {
    try rank(score, candidates[...], excluding: excluding)
  }

  public static func realistic(score: Double, candidates: [Double], excluding: [Int] = []) throws -> Double {
    try rank(score, candidates[...], excluding: excluding)
  }

  static func rank<T: BinaryFloatingPoint>(_ s: T, _ c: ArraySlice<T>, excluding: [Int]) throws -> Double {
    if s.isNaN { throw MetricsError.nonFinite(what: "true score", index: 0, value: Double(s)) }
    let base = c.startIndex
    var higher = 0, tied = 0
    for j in c.indices {
      let v = c[j]
      if v.isNaN { throw MetricsError.nonFinite(what: "candidate scores", index: j - base, value: Double(v)) }
      if v > s { higher += 1 } else if v == s { tied += 1 }
    }
    for j in Set(excluding) {
      guard j >= 0 && j < c.count else {
        throw MetricsError.invalidArgument("excluded candidate \(j) is outside the \(c.count) candidates")
      }
      let v = c[base + j]
      if v > s { higher -= 1 } else if v == s { tied -= 1 }
    }
    return 1 + Double(higher) + 0.5 * Double(tied)
  }
}

/// Streaming rank metrics over held-out items:
///
///     MRR       = mean(1 / rank)
///     mean rank = mean(rank)
///     Hits@K    = fraction with rank ≤ K         (K in `hitsAt`, default 1, 10, 50)
///
/// with ranks from `Rank.realistic` (so a tie at the top gives rank 1.5: not a Hits@1).
/// Feed it one item at a time (all-candidates evaluation, with filtered candidates
/// excluded) or a batch `[n, m]` of in-batch negatives.
///
///     var acc = try RankingAccumulator()
///     try acc.append(scores: pos, candidates: negs, candidatesPerItem: 8)
///     let s = try acc.compute()   // s.mrr, s.meanRank, s.hits[10]
public struct RankingAccumulator {
  public let hitsAt: [Int]
  public private(set) var count = 0
  private var reciprocalSum = 0.0, rankSum = 0.0
  private var hitCounts: [Int]

  public init(hitsAt: [Int] = [1, 10, 50]) throws {
    if let k = hitsAt.first(where: { $0 < 1 }) { throw MetricsError.invalidArgument("Hits@K needs K ≥ 1, got \(k)") }
    self.hitsAt = Array(Set(hitsAt)).sorted()
    hitCounts = Array(repeating: 0, count: self.hitsAt.count)
  }

  /// Adds one rank (finite, ≥ 1).
  public mutating func append(rank: Double) throws {
    guard rank.isFinite, rank >= 1 else { throw MetricsError.invalidArgument("a rank must be finite and ≥ 1, got \(rank)") }
    add(rank)
  }

  private mutating func add(_ rank: Double) {
    count += 1
    reciprocalSum += 1 / rank
    rankSum += rank
    for (k, threshold) in hitsAt.enumerated() where rank <= Double(threshold) { hitCounts[k] += 1 }
  }

  /// Ranks one true item among its candidates (see `Rank.realistic`) and adds it.
  public mutating func append(score: Float, candidates: [Float], excluding: [Int] = []) throws {
    add(try Rank.rank(score, candidates[...], excluding: excluding))
  }

  public mutating func append(score: Double, candidates: [Double], excluding: [Int] = []) throws {
    add(try Rank.rank(score, candidates[...], excluding: excluding))
  }

  /// Ranks a batch: item i has score `scores[i]` and candidates
  /// `candidates[i·m ..< (i+1)·m]` (row-major `[n, m]`, m = `candidatesPerItem`);
  /// `excluded`, the same shape, marks filtered candidates. Validated as a whole first.
  public mutating func append(scores: [Float], candidates: [Float], candidatesPerItem m: Int, excluded: [Bool]? = nil) throws {
    let ranks = try batchRanks(scores, candidates, m, excluded)
    for r in ranks { add(r) }
  }

  public mutating func append(scores: [Double], candidates: [Double], candidatesPerItem m: Int, excluded: [Bool]? = nil) throws {
    let ranks = try batchRanks(scores, candidates, m, excluded)
    for r in ranks { add(r) }
  }

  private func batchRanks<T: BinaryFloatingPoint>(_ s: [T], _ c: [T], _ m: Int, _ excluded: [Bool]?) throws -> [Double] {
    if m < 0 { throw MetricsError.invalidArgument("candidatesPerItem must be ≥ 0, got \(m)") }
    try InputValidation.checkLength("candidates", c.count, expected: s.count * m)
    if let e = excluded { try InputValidation.checkLength("excluded", e.count, expected: c.count) }
    return try s.indices.map { i in
      let row = c[(i * m)..<((i + 1) * m)]
      let skip = excluded.map { e in (0..<m).filter { e[i * m + $0] } } ?? []
      do { return try Rank.rank(s[i], row, excluding: skip) } catch MetricsError.nonFinite(let what, let j, let v) {
        throw MetricsError.nonFinite(what: what == "true score" ? "scores" : "candidates of item \(i)", index: what == "true score" ? i : j, value: v)
      }
    }
  }

  /// MRR, mean rank and Hits@K of everything appended; throws `noExamples` when empty.
  public func compute() throws -> RankingSummary {
    if count == 0 { throw MetricsError.noExamples(metric: "rank metrics") }
    let n = Double(count)
    var hits: [Int: Double] = [:]
    for (k, threshold) in hitsAt.enumerated() { hits[threshold] = Double(hitCounts[k]) / n }
    return RankingSummary(count: count, mrr: reciprocalSum / n, meanRank: rankSum / n, hits: hits)
  }

  public mutating func reset() {
    count = 0
    reciprocalSum = 0
    rankSum = 0
    hitCounts = Array(repeating: 0, count: hitsAt.count)
  }
}

/// Rank metrics of a set of held-out items.
///
///     summary.dictionary   // ["mrr": 0.41, "mean_rank": 12.5, "hits@1": 0.3, "hits@10": 0.7, "count": 1000]
public struct RankingSummary: Equatable, Sendable {
  public var count: Int
  public var mrr: Double
  public var meanRank: Double
  /// Hits@K by K.
  public var hits: [Int: Double]

  public var dictionary: [String: Double] {
    var d = ["mrr": mrr, "mean_rank": meanRank, "count": Double(count)]
    for (k, v) in hits { d["hits@\(k)"] = v }
    return d
  }
}
