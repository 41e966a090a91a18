import Foundation
import TMLNN
import TMLTensor
import TwHIN

/// How the feed trains its TwHIN retriever on a level's training ratings (one relation
/// user → item, `translation` operator): Adagrad tables and translation at `learningRate`,
/// batches of `batchSize`, `globalNegatives` uniform negatives on the `negativeSides`
/// (`negative_sides`; default both, the original's), `epochs` passes. Defaults chosen on
/// ml-100k's validation split (docs/recipes/movielens.md): items-only negatives (`[rhs]`)
/// make the better TwHIN on its own but the worse retriever for the re-ranker.
public struct FeedTwHINOptions: Equatable, Sendable {
  public var dim = 64
  public var epochs = 10
  public var batchSize = 256
  public var globalNegatives = 128
  public var negativeSides: [TwHINSide] = [.lhs, .rhs]
  public var learningRate: Float = 0.1
  public init() {}
}

/// One retrieval-aware example: a retrieved candidate of a test user at the user's split
/// time, its retrieval score and rank, its labels and its features.
public struct FeedExample: Equatable, Sendable {
  public var query: FeedFeatures.Query
  /// The candidate is among the user's held-out ratings ≥ 4 (the evaluation's positives).
  public var isLiked: Bool
  /// The candidate is among the user's held-out ratings, whatever the rating.
  public var isWatched: Bool
  public var row: RatingFeatures.Row
}

/// One level of the MovieLens feed on a rating log (`MovieLensFeed` runs two: the ranker
/// learns on the level inside the training ratings, the feed is measured on the outer one):
///
/// 1. `TemporalSplit`: each user's last 20 % of ratings are held out; the rest are the
///    `visible` ratings (TwHIN's edges, the features' history);
/// 2. TwHIN (`FeedTwHINOptions`) trained on the visible ratings;
/// 3. for each test user u, the top `candidates` items u did not rate in training, at the
///    split time T_u = the timestamp of u's first held-out rating;
/// 4. **retrieval-aware labels**: `is_liked` = the candidate is a held-out rating ≥ 4,
///    `is_watched` = it is any held-out rating; every other retrieved item is a negative —
///    exactly what the re-ranker faces at test time (a ranker trained on rated films alone
///    learns "liked, given watched");
/// 5. `FeedFeatures` as of T_u from the visible ratings before T_u.
public struct FeedStage {
  public let task: RecommendationTask
  /// The training ratings of this level (the log without its held-out part).
  public let visible: RatingLog
  /// T_u per user row (users with a held-out rating).
  public let splitTime: [Int: Int64]
  public let model: TwHINModel
  /// Per test user (`task.testUsers` order): the retrieved item rows and their scores, best first.
  public let candidates: [[(item: Int, score: Float)]]
  public let examples: [FeedExample]

  public init(log: RatingLog, candidates n: Int, twhin: FeedTwHINOptions, seed: UInt64) throws {
    let split = TemporalSplit(log)
    task = RecommendationTask(log: log)
    visible = log.subset(split.train)
    let userRow = Dictionary(uniqueKeysWithValues: task.users.enumerated().map { ($0.element, $0.offset) })
    let itemRow = Dictionary(uniqueKeysWithValues: task.items.enumerated().map { ($0.element, $0.offset) })
    var times: [Int: Int64] = [:], held: [Int: [Int: Float]] = [:]
    for i in split.test {
      guard let u = userRow[log.user[i]], let v = itemRow[log.item[i]] else { continue }
      times[u] = min(times[u] ?? .max, log.timestamp[i])
      held[u, default: [:]][v] = log.rating[i]
    }
    splitTime = times
    model = try Self.trainTwHIN(task, options: twhin, seed: seed)
    candidates = try Self.retrieve(task, model: model, n: n)
    let queries = zip(task.testUsers, candidates).flatMap { u, list in
      list.enumerated().map { r, c in FeedFeatures.Query(user: u, item: c.item, time: times[u] ?? .max, retrievalScore: c.score, retrievalRank: r) }
    }
    let features = FeedFeatures(visible: visible, userIDs: task.users, itemIDs: task.items,
                                itemEmbeddings: model.tables[1].weight.value.scalars, dim: model.dim)
    let labels = Self.labels(queries, heldOut: held)
    examples = zip(zip(queries, labels), features.rows(queries)).map { ql, row in
      FeedExample(query: ql.0, isLiked: ql.1.liked, isWatched: ql.1.watched, row: row)
    }
  }

  /// Retrieval-aware labels of candidates: (rating ≥ 4, rated at all) in the user's
  /// held-out ratings (`heldOut[user row][item row]`); unrated candidates are (false, false).
  public static func labels(_ queries: [FeedFeatures.Query], heldOut: [Int: [Int: Float]]) -> [(liked: Bool, watched: Bool)] {
    queries.map { q in
      guard let r = heldOut[q.user]?[q.item] else { return (false, false) }
      return (r >= RatingGraphImport.likedThreshold, true)
    }
  }

  /// TwHIN on the task's training pairs (table `user` → `item`, relation `rated`).
  public static func trainTwHIN(_ task: RecommendationTask, options o: FeedTwHINOptions, seed: UInt64) throws -> TwHINModel {
    let schema = try GraphSchema(tables: [TableSpec(name: "user", numEmbeddings: task.users.count), TableSpec(name: "item", numEmbeddings: task.items.count)],
                                 relations: [RelationSpec(name: "rated", lhs: "user", rhs: "item")])
    let model = try TwHINModel(schema: schema, dim: o.dim, embeddingInit: .torchrecUniform, translationInit: .uniform(low: 0, high: 1), seed: seed)
    let trainer = try TwHINTrainer(
      model: model, loss: TwHINLoss(inBatchNegatives: 0, globalNegatives: o.globalNegatives, sides: o.negativeSides),
      tableOptimizers: [.adagrad(.constant(o.learningRate)), .adagrad(.constant(o.learningRate))],
      translationOptimizer: .adagrad(.constant(o.learningRate)), seed: seed)
    var edges = EdgeList()
    for p in task.trainPairs { edges.append(lhs: p.user, relation: 0, rhs: p.item) }
    var shuffle = RandomGenerator(seed: seed, stream: 0x6665_6564)  // "feed"
    for _ in 0..<o.epochs where edges.count > 0 { _ = try trainer.trainEpoch(edges, batchSize: o.batchSize, shuffleWith: &shuffle) }
    model.eval()
    return model
  }

  /// Each test user's top `n` unrated items of `model` with their scores.
  public static func retrieve(_ task: RecommendationTask, model: TwHINModel, n: Int) throws -> [[(item: Int, score: Float)]] {
    let users = task.testUsers
    var out = [[(item: Int, score: Float)]](repeating: [], count: users.count)
    try model.forEachScoreRow(lhs: users, relation: 0) { i, row in
      out[i] = TopKEvaluation.topK(row, k: n, excluding: task.trainItems[users[i]]).map { ($0, row[$0]) }
    }
    return out
  }

  /// Recall of the candidate lists: retrieved held-out positives / all held-out positives (mean over test users).
  public var candidateRecall: Double {
    let users = task.testUsers
    guard !users.isEmpty else { return 0 }
    let total = zip(users, candidates).reduce(0.0) { acc, uc in
      let p = task.positives[uc.0]
      return acc + Double(uc.1.filter { p.contains($0.item) }.count) / Double(max(p.count, 1))
    }
    return total / Double(users.count)
  }
}

extension RatingLog {
  /// The ratings at `indices`, in that order.
  public func subset(_ indices: [Int]) -> RatingLog {
    RatingLog(user: indices.map { user[$0] }, item: indices.map { item[$0] }, rating: indices.map { rating[$0] },
              timestamp: indices.map { timestamp[$0] })
  }
}
