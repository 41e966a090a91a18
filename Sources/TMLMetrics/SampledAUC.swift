/// Sampled AUC of a link-prediction model (TwHIN): the probability that a true edge
/// outscores a sampled negative, ties counting half, over **all** positive × negative
/// pairs:
///
///     AUC = ( #{(i, j) : p_i > n_j} + ½ · #{(i, j) : p_i = n_j} ) / (P · N)
///
/// Computed exactly by one sort (the unweighted Mann–Whitney statistic, as `AUROC`),
/// where the original's `Auc` draws 128 random pairs per batch and compares them
/// strictly (ties count 0), which is noisy and biased low under ties.
///
///     try SampledAUC.compute(positiveScores: [2, 1], negativeScores: [1, 0])   // 0.875
public enum SampledAUC {
  public static func compute(positiveScores: [Float], negativeScores: [Float]) throws -> Double {
    var acc = SampledAUCAccumulator()
    try acc.append(positiveScores: positiveScores, negativeScores: negativeScores)
    return try acc.compute()
  }

  public static func compute(positiveScores: [Double], negativeScores: [Double]) throws -> Double {
    try InputValidation.checkFinite("positive scores", positiveScores, allowInfinity: true)
    try InputValidation.checkFinite("negative scores", negativeScores, allowInfinity: true)
    let labels = [Double](repeating: 1, count: positiveScores.count) + [Double](repeating: 0, count: negativeScores.count)
    return try AUROC.mannWhitney(
      scores: positiveScores + negativeScores, labels: labels, weights: nil, labelThreshold: 0.5, metric: "sampled AUC")
  }
}

/// Streaming sampled AUC over many batches of positive and negative scores (kept as
/// Float32 until `compute`). A batch may bring positives only, negatives only, or both.
///
///     var acc = SampledAUCAccumulator()
///     for b in batches { try acc.append(positiveScores: b.pos, negativeScores: b.neg) }
///     let auc = try acc.compute()
public struct SampledAUCAccumulator {
  var buffer = ExampleBuffer()

  public init() {}

  public var count: Int { buffer.count }

  public mutating func append(positiveScores: [Float], negativeScores: [Float]) throws {
    try InputValidation.checkFinite("positive scores", positiveScores, allowInfinity: true)
    try InputValidation.checkFinite("negative scores", negativeScores, allowInfinity: true)
    buffer.append(scores: positiveScores, labels: [Float](repeating: 1, count: positiveScores.count), weights: nil)
    buffer.append(scores: negativeScores, labels: [Float](repeating: 0, count: negativeScores.count), weights: nil)
  }

  /// Throws `missingClass` when no positive or no negative score was appended.
  public func compute() throws -> Double {
    try AUROC.mannWhitney(scores: buffer.scores, labels: buffer.labels, weights: nil, labelThreshold: 0.5, metric: "sampled AUC")
  }

  public mutating func reset() { buffer.removeAll() }
}
