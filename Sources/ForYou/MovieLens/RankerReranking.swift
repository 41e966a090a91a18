import Foundation
import TwHIN

/// TwHIN retrieves, the Heavy Ranker re-ranks (`tml data movielens-eval --write-candidates`,
/// then `tml recap predict`, then `--rerank`):
///
/// 1. `candidates`: each test user's top n items of a TwHIN model (unrated in training);
/// 2. `RatingExamples.writeCandidates` encodes them as of the user's split time;
/// 3. `tml recap predict` writes `meta__user_id, meta__item_id, is_liked/probability, …`;
/// 4. `scores(predictions:)` turns that file into score rows: a candidate's `is_liked`
///    probability, −∞ for every other item, so the top k come from the candidates only.
public enum RankerReranking {
  /// The top `n` item rows of `model` for each of `task.testUsers` (in that order).
  public static func candidates(_ task: RecommendationTask, twhin model: TwHINModel, n: Int) throws -> [[Int]] {
    let users = task.testUsers
    var out = [[Int]](repeating: [], count: users.count)
    try model.forEachScoreRow(lhs: users, relation: 0) { i, row in
      out[i] = TopKEvaluation.topK(row, k: n, excluding: task.trainItems[users[i]])
    }
    return out
  }

  /// (user row → item row → probability) of a `tml recap predict` TSV's `<head>/probability`.
  public static func scores(predictions path: String, task: RecommendationTask, head: String = "is_liked") throws -> [Int: [Int: Float]] {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
      throw TwHINError("\(path): cannot read the predictions (\((error as NSError).localizedDescription)); write them with tml recap predict --output \(path)")
    }
    let lines = text.split(separator: "\n")
    let header = lines.first.map { $0.split(separator: "\t").map(String.init) } ?? []
    guard let u = header.firstIndex(of: "meta__user_id"), let v = header.firstIndex(of: "meta__item_id"),
          let p = header.firstIndex(of: "\(head)/probability") else {
      throw TwHINError("\(path): expected the columns meta__user_id, meta__item_id and \(head)/probability (tml recap predict with the ranker.yaml of tml data movielens --ranker-examples); found \(header.joined(separator: ", "))")
    }
    let userRow = Dictionary(uniqueKeysWithValues: task.users.enumerated().map { ($0.element, $0.offset) })
    let itemRow = Dictionary(uniqueKeysWithValues: task.items.enumerated().map { ($0.element, $0.offset) })
    var out: [Int: [Int: Float]] = [:]
    for (n, line) in lines.enumerated().dropFirst() {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false)
      guard f.count == header.count, let user = Int64(f[u]).flatMap({ userRow[$0] }), let item = Int64(f[v]).flatMap({ itemRow[$0] }),
            let prob = Float(f[p]) else {
        throw TwHINError("\(path):\(n + 1): expected \(header.count) fields with a known user id, item id and a probability; were the candidates written from this rating log?")
      }
      out[user, default: [:]][item] = prob
    }
    return out
  }

  /// Recall@k / NDCG@k of ranking each test user's scored candidates by their score.
  public static func evaluate(_ task: RecommendationTask, k: Int = 10, scores: [Int: [Int: Float]]) throws -> TopKResult {
    try TopKEvaluation.evaluate(task, k: k) { users, body in
      var row = [Float](repeating: -.infinity, count: task.items.count)
      for (i, u) in users.enumerated() {
        for (v, s) in scores[u] ?? [:] { row[v] = s }
        try row.withUnsafeBufferPointer { try body(i, $0) }
        for v in (scores[u] ?? [:]).keys { row[v] = -.infinity }
      }
    }
  }
}
