/// Weighted area under the ROC curve by the Mann–Whitney U statistic, as the
/// original's `AUROCWithMWU`:
///
///     AUROC = Σ_{i pos} Σ_{j neg} w_i·w_j·( [s_i > s_j] + ½·[s_i = s_j] ) / (W_pos · W_neg)
///
/// An example is positive when its label is strictly above `labelThreshold` (0.5), and
/// W_pos, W_neg are the total weights of each class. Examples are sorted by score
/// once and walked in groups of equal score: a positive is credited with the weight
/// of every negative below it plus half the weight of the negatives tied with it.
/// That is exactly the original's average of its two tie orders — "ties correct"
/// (negatives first) and "ties incorrect" (positives first) — without sorting twice.
/// Exact for any score scale, so it stays correct at very low CTR where all
/// probabilities are close to 0.
///
/// Missing class: the original logs a warning and returns 0/0 = NaN (or raises when
/// `raise_missing_class`). We never return NaN: we throw
/// `MetricsError.missingClass`, which `BinaryClassificationMetrics` reports by
/// leaving `auroc` out of its dictionary. A class counts as missing when its total
/// weight is 0. The original puts the raw label (not the thresholded one) in the
/// numerator; for 0/1 labels the two agree, and thresholding keeps soft labels well defined.
///
///     let a = try AUROC.compute(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1])  // 0.75
public enum AUROC {
  /// One-shot AUROC of Float32 scores. Scores may be ±∞ (they still order); NaN is an error.
  public static func compute(
    scores: [Float], labels: [Float], weights: [Float]? = nil, labelThreshold: Double = 0.5
  ) throws -> Double {
    try InputValidation.checkBatch(scores: scores, scoreName: "scores", labels: labels, weights: weights, allowInfiniteScores: true)
    return try mannWhitney(scores: scores, labels: labels, weights: weights, labelThreshold: labelThreshold)
  }

  /// One-shot AUROC of Float64 scores, compared at full Double precision.
  public static func compute(
    scores: [Double], labels: [Double], weights: [Double]? = nil, labelThreshold: Double = 0.5
  ) throws -> Double {
    try InputValidation.checkBatch(scores: scores, scoreName: "scores", labels: labels, weights: weights, allowInfiniteScores: true)
    return try mannWhitney(scores: scores, labels: labels, weights: weights, labelThreshold: labelThreshold)
  }

  private struct Entry<S> {
    var score: S
    var weight: Double
    var positive: Bool
  }

  /// The sort-and-sweep core on validated input. Zero-weight examples are dropped
  /// first: they add nothing to any sum.
  static func mannWhitney<S: BinaryFloatingPoint>(
    scores: [S], labels: [S], weights: [S]?, labelThreshold: Double, metric: String = "AUROC"
  ) throws -> Double {
    var entries: [Entry<S>] = []
    entries.reserveCapacity(scores.count)
    var positiveWeight = 0.0, negativeWeight = 0.0
    for i in scores.indices {
      let w = weights.map { Double($0[i]) } ?? 1
      if w == 0 { continue }
      let positive = Double(labels[i]) > labelThreshold
      if positive { positiveWeight += w } else { negativeWeight += w }
      entries.append(Entry(score: scores[i], weight: w, positive: positive))
    }
    if entries.isEmpty { throw MetricsError.noExamples(metric: metric) }
    if negativeWeight == 0 { throw MetricsError.missingClass(metric: metric, missing: .negative) }
    if positiveWeight == 0 { throw MetricsError.missingClass(metric: metric, missing: .positive) }

    entries.sort { $0.score < $1.score }
    var numerator = 0.0, negativesBelow = 0.0
    entries.withUnsafeBufferPointer { e in
      var start = 0
      while start < e.count {
        let score = e[start].score
        var tiedPositive = 0.0, tiedNegative = 0.0, end = start
        while end < e.count && e[end].score == score {
          if e[end].positive { tiedPositive += e[end].weight } else { tiedNegative += e[end].weight }
          end += 1
        }
        numerator += tiedPositive * (negativesBelow + 0.5 * tiedNegative)
        negativesBelow += tiedNegative
        start = end
      }
    }
    return min(max(numerator / positiveWeight / negativeWeight, 0), 1)
  }
}

/// Streaming AUROC over many batches: `append` each batch (validated on arrival, so an
/// error names the offending index within that batch), `compute` at the end. AUROC is
/// not decomposable, so the examples are kept (as Float32 — 8 bytes an example, 12
/// with weights) until `compute` or `reset`, as the original's `AUROCWithMWU` does.
///
///     var acc = AUROCAccumulator()
///     for batch in batches { try acc.append(scores: batch.p, labels: batch.y) }
///     let value = try acc.compute()
public struct AUROCAccumulator {
  public let labelThreshold: Double
  var buffer = ExampleBuffer()

  public init(labelThreshold: Double = 0.5) { self.labelThreshold = labelThreshold }

  /// Number of examples appended so far.
  public var count: Int { buffer.count }

  public mutating func append(scores: [Float], labels: [Float], weights: [Float]? = nil) throws {
    try InputValidation.checkBatch(scores: scores, scoreName: "scores", labels: labels, weights: weights, allowInfiniteScores: true)
    buffer.append(scores: scores, labels: labels, weights: weights)
  }

  /// Appends Double scores; they are kept (and compared) as Float32.
  public mutating func append(scores: [Double], labels: [Double], weights: [Double]? = nil) throws {
    try InputValidation.checkBatch(scores: scores, scoreName: "scores", labels: labels, weights: weights, allowInfiniteScores: true)
    buffer.append(scores: scores, labels: labels, weights: weights)
  }

  /// AUROC of everything appended since the last `reset`.
  public func compute() throws -> Double {
    try AUROC.mannWhitney(scores: buffer.scores, labels: buffer.labels, weights: buffer.weights, labelThreshold: labelThreshold)
  }

  public mutating func reset() { buffer.removeAll() }
}
