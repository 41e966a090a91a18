import Foundation

/// Relative cross entropy, as the original's `RCE`:
///
///     bce(p, y) = −y·log(clip(p) + ε) − (1 − y)·log(1 − clip(p) + ε),   clip(p) = min(max(p, ε), 1 − ε)
///     CE(model) = Σ w·bce(p, y) / Σ w
///     CE(ref)   = bce(ȳ, ȳ),   ȳ = Σ w·y / Σ w        (the constant mean-label predictor)
///     RCE       = 100 · (1 − CE(model) / CE(ref))
///
/// ε = 1e-7 (Keras' fuzz factor, which the original copies — including the extra `+ ε`
/// inside the logs). 0 means as good as predicting the mean label, 100 a perfect model,
/// negative worse than the constant. Everything is summed in Double.
/// Undefined (thrown, never NaN) with no weighted examples or when ȳ is 0 or 1.
///
///     let r = try RCE.compute(predictions: [0.2, 0.7, 0.9], labels: [0, 1, 1])
public enum RCE {
  public static let defaultEpsilon = 1e-7

  /// One example's clipped binary cross entropy.
  @inline(__always)
  static func binaryCrossEntropy(_ p: Double, _ y: Double, epsilon: Double) -> Double {
    let c = min(max(p, epsilon), 1 - epsilon)
    return -y * log(c + epsilon) - (1 - y) * log(1 - c + epsilon)
  }

  public static func compute(
    predictions: [Float], labels: [Float], weights: [Float]? = nil, epsilon: Double = defaultEpsilon
  ) throws -> Double {
    var acc = RCEAccumulator(epsilon: epsilon)
    try acc.append(predictions: predictions, labels: labels, weights: weights)
    return try acc.compute()
  }

  public static func compute(
    predictions: [Double], labels: [Double], weights: [Double]? = nil, epsilon: Double = defaultEpsilon
  ) throws -> Double {
    var acc = RCEAccumulator(epsilon: epsilon)
    try acc.append(predictions: predictions, labels: labels, weights: weights)
    return try acc.compute()
  }

  /// RCE from the three running sums Σw, Σw·y and Σw·bce.
  static func fromSums(weight: Double, weightedLabel: Double, weightedCE: Double, epsilon: Double, metric: String) throws -> Double {
    if !(weight > 0) { throw MetricsError.noExamples(metric: metric) }
    let meanLabel = weightedLabel / weight
    if meanLabel <= 0 { throw MetricsError.missingClass(metric: metric, missing: .positive) }
    if meanLabel >= 1 { throw MetricsError.missingClass(metric: metric, missing: .negative) }
    let reference = binaryCrossEntropy(meanLabel, meanLabel, epsilon: epsilon)
    guard reference > 0, reference.isFinite else {
      throw MetricsError.undefined(metric: metric, reason: "the mean-label predictor's cross entropy is \(reference)")
    }
    return 100 * (1 - (weightedCE / weight) / reference)
  }
}

/// Streaming RCE: keeps only Σw, Σw·y and Σw·bce (Double), so chunked and one-shot
/// results agree to rounding. Predictions must be finite (they are then clipped).
///
///     var acc = RCEAccumulator(); try acc.append(predictions: p, labels: y); let r = try acc.compute()
public struct RCEAccumulator {
  public let epsilon: Double
  public private(set) var weightSum = 0.0
  public private(set) var weightedLabelSum = 0.0
  public private(set) var weightedCrossEntropySum = 0.0

  public init(epsilon: Double = RCE.defaultEpsilon) { self.epsilon = epsilon }

  public mutating func append(predictions: [Float], labels: [Float], weights: [Float]? = nil) throws {
    try add(predictions, labels, weights)
  }

  public mutating func append(predictions: [Double], labels: [Double], weights: [Double]? = nil) throws {
    try add(predictions, labels, weights)
  }

  private mutating func add<T: BinaryFloatingPoint>(_ p: [T], _ y: [T], _ w: [T]?) throws {
    try InputValidation.checkBatch(scores: p, scoreName: "predictions", labels: y, weights: w, allowInfiniteScores: false)
    addValidated(p, y, w)
  }

  /// Adds a batch that has already passed `InputValidation.checkBatch`.
  mutating func addValidated<T: BinaryFloatingPoint>(_ p: [T], _ y: [T], _ w: [T]?) {
    for i in p.indices {
      let wi = w.map { Double($0[i]) } ?? 1, yi = Double(y[i])
      weightSum += wi
      weightedLabelSum += wi * yi
      weightedCrossEntropySum += wi * RCE.binaryCrossEntropy(Double(p[i]), yi, epsilon: epsilon)
    }
  }

  /// The model's weighted mean cross entropy, CE(model).
  public var crossEntropy: Double? { weightSum > 0 ? weightedCrossEntropySum / weightSum : nil }

  public func compute() throws -> Double {
    try RCE.fromSums(weight: weightSum, weightedLabel: weightedLabelSum, weightedCE: weightedCrossEntropySum, epsilon: epsilon, metric: "RCE")
  }

  public mutating func reset() { weightSum = 0; weightedLabelSum = 0; weightedCrossEntropySum = 0 }
}

/// Normalised RCE, as the original's `NRCE`: the RCE of the model whose predictions are
/// rescaled so that their weighted mean equals the weighted mean label,
///
///     p̃ = p · (Σ w·y / Σ w) / (Σ w·p / Σ w),      NRCE = RCE(p̃)
///
/// with the same weights, clipping and ε as `RCE` (ε enters only the cross entropy,
/// not the normalisation). It measures how good the model could be if calibrated; a
/// large gap NRCE − RCE points at miscalibration. Undefined (thrown) when RCE is, or
/// when the mean prediction is 0.
///
///     let n = try NRCE.compute(predictions: p, labels: y, weights: w)
public enum NRCE {
  public static func compute(
    predictions: [Float], labels: [Float], weights: [Float]? = nil, epsilon: Double = RCE.defaultEpsilon
  ) throws -> Double {
    try InputValidation.checkBatch(scores: predictions, scoreName: "predictions", labels: labels, weights: weights, allowInfiniteScores: false)
    return try globallyNormalised(predictions, labels, weights, epsilon: epsilon)
  }

  public static func compute(
    predictions: [Double], labels: [Double], weights: [Double]? = nil, epsilon: Double = RCE.defaultEpsilon
  ) throws -> Double {
    try InputValidation.checkBatch(scores: predictions, scoreName: "predictions", labels: labels, weights: weights, allowInfiniteScores: false)
    return try globallyNormalised(predictions, labels, weights, epsilon: epsilon)
  }

  /// Two passes over validated input: the normaliser, then the cross entropy.
  static func globallyNormalised<T: BinaryFloatingPoint>(_ p: [T], _ y: [T], _ w: [T]?, epsilon: Double) throws -> Double {
    var weight = 0.0, weightedLabel = 0.0, weightedPrediction = 0.0
    for i in p.indices {
      let wi = w.map { Double($0[i]) } ?? 1
      weight += wi
      weightedLabel += wi * Double(y[i])
      weightedPrediction += wi * Double(p[i])
    }
    if !(weight > 0) { throw MetricsError.noExamples(metric: "NRCE") }
    guard weightedPrediction > 0, weightedPrediction.isFinite else {
      throw MetricsError.undefined(metric: "NRCE", reason: "the weighted mean prediction is \(weightedPrediction / weight), so predictions cannot be rescaled to the mean label")
    }
    let normaliser = weightedLabel / weightedPrediction
    var weightedCE = 0.0
    for i in p.indices {
      let wi = w.map { Double($0[i]) } ?? 1
      weightedCE += wi * RCE.binaryCrossEntropy(Double(p[i]) * normaliser, Double(y[i]), epsilon: epsilon)
    }
    return try RCE.fromSums(weight: weight, weightedLabel: weightedLabel, weightedCE: weightedCE, epsilon: epsilon, metric: "NRCE")
  }
}

/// Streaming NRCE. Two normalisations:
///
/// - `.global` (default): the definition above over all appended examples, so any
///   chunking gives the one-shot value. The normaliser is known only at the end, so the
///   examples are kept (Float32) until `compute`.
/// - `.runningPerBatch`: the original's `NRCE.update`, O(1) memory — each batch is
///   rescaled by the running Σw·y / Σw·p of all batches so far (this one included) and
///   its cross entropy added then. The result depends on batch order and size; use it
///   to reproduce numbers logged by the original.
///
///     var acc = NRCEAccumulator(); for b in batches { try acc.append(predictions: b.p, labels: b.y) }
public struct NRCEAccumulator {
  public enum Normalization: Sendable { case global, runningPerBatch }

  public let normalization: Normalization
  public let epsilon: Double
  var buffer = ExampleBuffer()
  private var weightSum = 0.0, weightedLabelSum = 0.0, weightedPredictionSum = 0.0, weightedCESum = 0.0
  private var unnormalisableBatch: Int? = nil
  private var batches = 0

  public init(normalization: Normalization = .global, epsilon: Double = RCE.defaultEpsilon) {
    self.normalization = normalization
    self.epsilon = epsilon
  }

  public mutating func append(predictions: [Float], labels: [Float], weights: [Float]? = nil) throws {
    try InputValidation.checkBatch(scores: predictions, scoreName: "predictions", labels: labels, weights: weights, allowInfiniteScores: false)
    if normalization == .global { buffer.append(scores: predictions, labels: labels, weights: weights) } else { addRunning(predictions, labels, weights) }
  }

  public mutating func append(predictions: [Double], labels: [Double], weights: [Double]? = nil) throws {
    try InputValidation.checkBatch(scores: predictions, scoreName: "predictions", labels: labels, weights: weights, allowInfiniteScores: false)
    if normalization == .global { buffer.append(scores: predictions, labels: labels, weights: weights) } else { addRunning(predictions, labels, weights) }
  }

  private mutating func addRunning<T: BinaryFloatingPoint>(_ p: [T], _ y: [T], _ w: [T]?) {
    defer { batches += 1 }
    var batchWeight = 0.0
    for i in p.indices {
      let wi = w.map { Double($0[i]) } ?? 1
      batchWeight += wi
      weightSum += wi
      weightedLabelSum += wi * Double(y[i])
      weightedPredictionSum += wi * Double(p[i])
    }
    guard weightedPredictionSum > 0, weightedPredictionSum.isFinite else {
      if batchWeight > 0 && unnormalisableBatch == nil { unnormalisableBatch = batches }
      return
    }
    let normaliser = weightedLabelSum / weightedPredictionSum
    for i in p.indices {
      let wi = w.map { Double($0[i]) } ?? 1
      weightedCESum += wi * RCE.binaryCrossEntropy(Double(p[i]) * normaliser, Double(y[i]), epsilon: epsilon)
    }
  }

  public func compute() throws -> Double {
    switch normalization {
    case .global:
      return try NRCE.globallyNormalised(buffer.scores, buffer.labels, buffer.weights, epsilon: epsilon)
    case .runningPerBatch:
      if let b = unnormalisableBatch {
        throw MetricsError.undefined(metric: "NRCE", reason: "the running mean prediction was 0 at batch \(b), so that batch could not be rescaled")
      }
      return try RCE.fromSums(weight: weightSum, weightedLabel: weightedLabelSum, weightedCE: weightedCESum, epsilon: epsilon, metric: "NRCE")
    }
  }

  public mutating func reset() {
    buffer.removeAll()
    weightSum = 0; weightedLabelSum = 0; weightedPredictionSum = 0; weightedCESum = 0
    unnormalisableBatch = nil; batches = 0
  }
}
