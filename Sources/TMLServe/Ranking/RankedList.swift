import Recap

/// Candidates ordered by the weighted engagement score (`EngagementScore`):
///
///     score = Σ_h weight_h · calibrated_h,   contribution_h = weight_h · calibrated_h
///
/// over the calibrated probabilities, as `tml recap score` does; ties keep the request
/// order. Each entry keeps every head's logit, probability and calibrated probability.
public struct RankedList {
  public struct Entry {
    /// The candidate's position in the request.
    public var index: Int
    public var id: JSONValue
    public var score: Double
    /// Per model head: (logit, probability, calibrated), in `heads` order.
    public var outputs: [(logit: Float, probability: Float, calibrated: Float)]
    /// weight · calibrated per weighted head the model predicts.
    public var contributions: [(head: String, value: Double)]
  }

  public let heads: [String]
  public let weights: EngagementScore
  /// Weighted heads the model does not predict (they add nothing).
  public let missingHeads: [String]
  public var entries: [Entry]

  /// Scores and sorts `result`; a candidate whose record was refused is a 400 naming it.
  public init(_ result: RankBatcher.Result, ids: [JSONValue], weights: EngagementScore, path: String = "candidates") throws {
    if let (i, message) = result.refused.min(by: { $0.key < $1.key }) {
      throw ServeError.badRequest("\(path)[\(i)]: \(message)")
    }
    heads = result.ranker.taskNames
    self.weights = weights
    let t = result.tasks
    var missing: [String] = []
    entries = ids.enumerated().map { i, id in
      let outputs = (0..<t).map { k in (result.logits[i * t + k], result.probabilities[i * t + k], result.calibrated[i * t + k]) }
      var byHead: [String: Double] = [:]
      for (k, h) in result.ranker.taskNames.enumerated() { byHead[h] = Double(outputs[k].2) }
      let s = weights.score(byHead)
      if i == 0 { missing = s.missing }
      return Entry(index: i, id: id, score: s.score, outputs: outputs, contributions: s.contributions)
    }
    missingHeads = missing
    entries.sort { ($0.score, -$0.index) > ($1.score, -$1.index) }
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
    let contribution = Dictionary(entry.contributions.map { ($0.head, $0.value) }, uniquingKeysWith: { a, _ in a })
    let weight = Dictionary(weights.weights.map { ($0.head, $0.weight) }, uniquingKeysWith: { a, _ in a })
    w.object { o in
      o.key("id"); RankedList.writeID(entry.id, to: &o)
      o.key("index"); o.int(entry.index)
      o.key("score"); o.double(entry.score)
      extra(&o)
      o.key("heads")
      o.object { hs in
        for (k, h) in heads.enumerated() {
          hs.key(h)
          hs.object { x in
            x.key("logit"); x.float(entry.outputs[k].logit)
            x.key("probability"); x.float(entry.outputs[k].probability)
            x.key("calibrated"); x.float(entry.outputs[k].calibrated)
            if let wt = weight[h], let c = contribution[h] {
              x.key("weight"); x.double(wt)
              x.key("contribution"); x.double(c)
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
