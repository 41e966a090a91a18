import Foundation
import TwHIN

/// The top-k recommendation task of a rating log under `TemporalSplit` (`tml data
/// movielens-eval`): for each user with at least one held-out rating ≥ 4, rank **every
/// item the user has not rated in training** and look at the first k.
///
///     Recall@k = |top-k ∩ P| / |P|
///     NDCG@k   = Σ_{r ≤ k, item_r ∈ P} 1 / log2(r + 1)  /  Σ_{r ≤ min(k, |P|)} 1 / log2(r + 1)
///
/// P = the user's held-out ratings ≥ 4; both averaged over those users. Scores are ordered
/// high to low, equal scores by item row (smaller first), so a result is reproducible.
/// Users and items are rows in increasing id order, the rows of `RatingGraphImport`, so a
/// TwHIN model trained on its config scores the same rows.
public struct RecommendationTask: Sendable {
  public let users: [Int64]
  public let items: [Int64]
  /// Items each user rated in training (user row → item rows).
  public let trainItems: [Set<Int>]
  /// Training (user row, item row) pairs in log order.
  public let trainPairs: [(user: Int, item: Int)]
  /// Held-out positives per user row (empty for users not evaluated).
  public let positives: [Set<Int>]

  public init(log: RatingLog, testFraction: Double = 0.2) {
    let graph = RatingGraphImport(log: log, testFraction: testFraction)
    users = graph.users
    items = graph.items
    var train = [Set<Int>](repeating: [], count: users.count), pos = train, pairs: [(user: Int, item: Int)] = []
    for k in 0..<graph.train.count {
      train[graph.train.lhs[k]].insert(graph.train.rhs[k])
      pairs.append((graph.train.lhs[k], graph.train.rhs[k]))
    }
    for k in 0..<graph.test.count { pos[graph.test.lhs[k]].insert(graph.test.rhs[k]) }
    (trainItems, trainPairs, positives) = (train, pairs, pos)
  }

  /// A task from explicit sets (tests).
  public init(items: Int, trainItems: [Set<Int>], positives: [Set<Int>]) {
    users = (0..<trainItems.count).map(Int64.init)
    self.items = (0..<items).map(Int64.init)
    self.trainItems = trainItems
    self.positives = positives
    trainPairs = trainItems.enumerated().flatMap { u, s in s.sorted().map { (u, $0) } }
  }

  /// The user rows that are evaluated (at least one held-out positive).
  public var testUsers: [Int] { (0..<users.count).filter { !positives[$0].isEmpty } }
}

/// Mean Recall@k and NDCG@k over a task's test users.
public struct TopKResult: Equatable, Sendable {
  public var recall: Double
  public var ndcg: Double
  public var users: Int
}

/// Top-k lists and their metrics (see `RecommendationTask`): `topK` over unrated items,
/// `metrics` of one list, `evaluate` of a scorer (fixed scores, popularity, TwHIN).
public enum TopKEvaluation {
  /// The k best item rows of `scores` among items not in `excluded` (high to low, ties by row).
  public static func topK(_ scores: UnsafeBufferPointer<Float>, k: Int, excluding excluded: Set<Int>) -> [Int] {
    var best: [(Float, Int)] = []  // sorted: higher score first, then smaller row
    best.reserveCapacity(k + 1)
    func before(_ a: (Float, Int), _ b: (Float, Int)) -> Bool { a.0 > b.0 || (a.0 == b.0 && a.1 < b.1) }
    for v in 0..<scores.count where !excluded.contains(v) {
      let c = (scores[v].isNaN ? -Float.infinity : scores[v], v)
      if best.count == k, let last = best.last, !before(c, last) { continue }
      let at = best.firstIndex { before(c, $0) } ?? best.count
      best.insert(c, at: at)
      if best.count > k { best.removeLast() }
    }
    return best.map(\.1)
  }

  /// Recall@k and NDCG@k of one ranked list against the positives.
  public static func metrics(ranked: [Int], positives: Set<Int>, k: Int) -> (recall: Double, ndcg: Double) {
    var dcg = 0.0, hits = 0
    for (r, item) in ranked.prefix(k).enumerated() where positives.contains(item) {
      hits += 1
      dcg += 1 / log2(Double(r + 2))
    }
    let ideal = (0..<min(k, positives.count)).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
    return (Double(hits) / Double(positives.count), ideal > 0 ? dcg / ideal : 0)
  }

  /// Evaluates a scorer: `scores(userRows, body)` calls `body(i, scores of userRows[i] for every item)`.
  public static func evaluate(_ task: RecommendationTask, k: Int = 10,
                              scores: ([Int], (Int, UnsafeBufferPointer<Float>) throws -> Void) throws -> Void) throws -> TopKResult {
    let users = task.testUsers
    var recall = 0.0, ndcg = 0.0
    try scores(users) { i, row in
      let u = users[i]
      let m = metrics(ranked: topK(row, k: k, excluding: task.trainItems[u]), positives: task.positives[u], k: k)
      recall += m.recall
      ndcg += m.ndcg
    }
    let n = Double(max(users.count, 1))
    return TopKResult(recall: recall / n, ndcg: ndcg / n, users: users.count)
  }

  /// The same score row for every user.
  public static func evaluate(_ task: RecommendationTask, k: Int = 10, fixed: [Float]) throws -> TopKResult {
    try evaluate(task, k: k) { users, body in
      try fixed.withUnsafeBufferPointer { p in for i in users.indices { try body(i, p) } }
    }
  }

  /// Popularity: each item's number of training ratings.
  public static func popularity(_ task: RecommendationTask) -> [Float] {
    var count = [Float](repeating: 0, count: task.items.count)
    for p in task.trainPairs { count[p.item] += 1 }
    return count
  }

  /// Scores of a trained TwHIN model (relation 0, user → item), rows as in the task.
  public static func evaluate(_ task: RecommendationTask, k: Int = 10, twhin model: TwHINModel) throws -> TopKResult {
    let s = model.schema
    guard s.relations.count > 0, s.tables[s.lhsTable[0]].numEmbeddings == task.users.count, s.tables[s.rhsTable[0]].numEmbeddings == task.items.count else {
      throw TwHINError("the TwHIN model's first relation does not map \(task.users.count) users to \(task.items.count) items; use the config `tml data movielens` wrote for this rating log")
    }
    return try evaluate(task, k: k) { users, body in
      try model.forEachScoreRow(lhs: users, relation: 0) { i, row in try body(i, row) }
    }
  }
}
