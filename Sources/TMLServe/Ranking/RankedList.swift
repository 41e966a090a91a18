import Recap

/// Candidates ordered by the weighted engagement score (`EngagementScore`):
///
///     score = Σ_h weight_h · calibrated_h,   contribution_h = weight_h · calibrated_h
///
/// over the calibrated probabilities, as `tml recap score` does; ties keep the request
/// order. Each entry keeps every head's logit, probability and calibrated probability.
///
///     let list = try RankedList(try await batcher.score(records), ids: ids, weights: EngagementScore())
public struct RankedList {
  public struct Entry {
    /// The candidate's position in the request.
    public var index: Int
    public var id: JSONValue
    public var score: Double
  }

  public let heads: [String]
  public let weights: EngagementScore
  /// Weighted heads the model does not predict (they add nothing).
  public let missingHeads: [String]
  public var entries: [Entry]
  /// The model outputs, row-major candidates × heads.
  let result: RankBatcher.Result
  /// Per head (model order), its weight when weighted.
  let weightOfHead: [Double?]

  /// Scores and sorts `result`; a candidate whose record was refused is a 400 naming it.
  public init(_ result: RankBatcher.Result, ids: [JSONValue], weights: EngagementScore, path: String = "candidates") throws {
    if let (i, message) = result.refused.min(by: { $0.key < $1.key }) {
      throw ServeError.badRequest("\(path)[\(i)]: \(message)")
    }
    self.result = result
    heads = result.ranker.taskNames
    self.weights = weights
    // EngagementScore.score over the calibrated probabilities, with the head lookup done once.
    var weightOfHead = [Double?](repeating: nil, count: heads.count)
    var missing: [String] = []
    for (head, w) in weights.weights {
      if let k = heads.firstIndex(of: head) { weightOfHead[k] = (weightOfHead[k] ?? 0) + w } else { missing.append(head) }
    }
    self.weightOfHead = weightOfHead
    missingHeads = missing
    let t = result.tasks
    let weighted = weightOfHead.enumerated().compactMap { k, w in w.map { (k, $0) } }
    entries = ids.enumerated().map { i, id in
      var score = 0.0
      for (k, w) in weighted { score += w * Double(result.calibrated[i * t + k]) }
      return Entry(index: i, id: id, score: score)
    }
    entries.sort { ($0.score, -$0.index) > ($1.score, -$1.index) }
  }

  /// Head `k`'s (logit, probability, calibrated) for candidate `index`.
  public func output(_ index: Int, head k: Int) -> (logit: Float, probability: Float, calibrated: Float) {
    let i = index * result.tasks + k
    return (result.logits[i], result.probabilities[i], result.calibrated[i])
  }

  /// weight_h · calibrated_h for each weighted head the model predicts, in model order.
  public func contributions(_ index: Int) -> [(head: String, value: Double)] {
    heads.indices.compactMap { k in weightOfHead[k].map { (heads[k], $0 * Double(output(index, head: k).calibrated)) } }
  }

  /// The server's weights with a request's `{head: weight}` on top; a head the model does
  /// not predict is a 400 listing the model's heads.
  public static func weights(_ base: EngagementScore, overrides: [String: Double], heads: [String]) throws -> EngagementScore {
    guard !overrides.isEmpty else { return base }
    let unknown = overrides.keys.filter { !heads.contains($0) }.sorted()
    guard unknown.isEmpty else {
      throw ServeError.badRequest("weights: head\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")) not predicted by the model; its heads are: \(heads.joined(separator: ", "))")
    }
    var w = base.weights
    for (head, v) in overrides.sorted(by: { $0.key < $1.key }) {
      if let i = w.firstIndex(where: { $0.head == head }) { w[i].weight = v } else { w.append((head, v)) }
    }
    return EngagementScore(weights: w)
  }

  /// Writes `entry` as `{"id", "index", "score", "heads": {<head>: {logit, probability,
  /// calibrated, weight?, contribution?}}}`; `extra` adds members (the feed's source).
  public func write(_ entry: Entry, to w: inout JSONWriter, extra: (inout JSONWriter) -> Void = { _ in }) {
    w.object { o in
      o.key("id"); RankedList.writeID(entry.id, to: &o)
      o.key("index"); o.int(entry.index)
      o.key("score"); o.double(entry.score)
      extra(&o)
      o.key("heads")
      o.object { hs in
        for (k, h) in heads.enumerated() {
          let out = output(entry.index, head: k)
          hs.key(h)
          hs.object { x in
            x.key("logit"); x.float(out.logit)
            x.key("probability"); x.float(out.probability)
            x.key("calibrated"); x.float(out.calibrated)
            if let weight = weightOfHead[k] {
              x.key("weight"); x.double(weight)
              x.key("contribution"); x.double(weight * Double(out.calibrated))
            }
          }
        }
      }
    }
  }

  /// A key identifying a candidate id (strings and numbers never collide).
  static func idKey(_ id: JSONValue) -> String {
    switch id {
    case .string(let s): return "s:" + s
    case .number(_, let exact?): return "i:\(exact)"
    case .number(let d, nil): return "d:\(d)"
    default: return "?"
    }
  }

  static func writeID(_ id: JSONValue, to w: inout JSONWriter) {
    switch id {
    case .string(let s): w.string(s)
    case .number(_, let exact?): w.int64(exact)
    case .number(let d, nil): w.double(d)
    default: w.null()
    }
  }
}
