/// Checks shared by every metric's input: parallel lengths, finite values, and
/// non-negative finite weights. Each failure names the array and the index.
enum InputValidation {
  static func checkLength(_ what: String, _ count: Int, expected: Int) throws {
    if count != expected { throw MetricsError.lengthMismatch(what: what, expected: expected, actual: count) }
  }

  /// Rejects NaN anywhere; rejects ±∞ too unless `allowInfinity`.
  static func checkFinite<T: BinaryFloatingPoint>(_ what: String, _ values: [T], allowInfinity: Bool = false) throws {
    try values.withUnsafeBufferPointer { v in
      for i in 0..<v.count where v[i].isNaN || (!allowInfinity && v[i].isInfinite) {
        throw MetricsError.nonFinite(what: what, index: i, value: Double(v[i]))
      }
    }
  }

  static func checkWeights<T: BinaryFloatingPoint>(_ weights: [T]?, count: Int) throws {
    guard let w = weights else { return }
    try checkLength("weights", w.count, expected: count)
    try checkFinite("weights", w)
    try w.withUnsafeBufferPointer { p in
      for i in 0..<p.count where p[i] < 0 { throw MetricsError.negativeWeight(what: "weights", index: i, value: Double(p[i])) }
    }
  }

  /// Validates one batch of (predictions or scores, labels, optional weights).
  static func checkBatch<T: BinaryFloatingPoint>(
    scores: [T], scoreName: String, labels: [T], weights: [T]?, allowInfiniteScores: Bool
  ) throws {
    try checkLength("labels", labels.count, expected: scores.count)
    try checkFinite(scoreName, scores, allowInfinity: allowInfiniteScores)
    try checkFinite("labels", labels)
    try checkWeights(weights, count: scores.count)
  }
}
