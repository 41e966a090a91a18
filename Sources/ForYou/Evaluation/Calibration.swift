/// A reliability diagram of one head: held-out examples sorted by predicted probability
/// and cut into equal-count bins; each bin's mean prediction against its observed rate.
/// A calibrated head lies on the diagonal observed = predicted.
///
///     bin b:  p̄_b = mean p̂,  ȳ_b = mean y   over the examples of the bin
public struct CalibrationCurve: Sendable {
  public struct Bin: Sendable {
    public var predicted: Double
    public var observed: Double
    public var count: Int
  }

  public var head: EngagementHead
  public var bins: [Bin]

  /// `predictions` and `labels` are parallel; `bins` equal-count bins (fewer when there are fewer examples).
  public init(head: EngagementHead, predictions: [Double], labels: [Bool], bins n: Int = 10) {
    self.head = head
    let order = predictions.indices.sorted { (predictions[$0], $0) < (predictions[$1], $1) }
    let count = max(1, min(n, order.count))
    var out: [Bin] = []
    for b in 0..<count where !order.isEmpty {
      let lo = b * order.count / count, hi = (b + 1) * order.count / count
      guard hi > lo else { continue }
      var p = 0.0, y = 0.0
      for i in order[lo..<hi] {
        p += predictions[i]
        y += labels[i] ? 1 : 0
      }
      out.append(Bin(predicted: p / Double(hi - lo), observed: y / Double(hi - lo), count: hi - lo))
    }
    bins = out
  }

  /// Reliability curves of every head from held-out probabilities (by impression id).
  static func curves(_ heldOut: [HeldOutImpression], predictions: [Int: [Float]]) -> [CalibrationCurve] {
    let rows = heldOut.filter { predictions[$0.id] != nil }
    return EngagementHead.allCases.map { h in
      CalibrationCurve(head: h, predictions: rows.map { Double(predictions[$0.id]![h.rawValue]) },
                       labels: rows.map { $0.engagements & (1 << UInt16(h.rawValue)) != 0 })
    }
  }
}
