/// Every binary-classification metric of one task, accumulated over many batches:
///
///     auroc  — weighted Mann–Whitney AUROC (`AUROC`)
///     rce    — 100·(1 − CE(model)/CE(mean label)) (`RCE`)
///     nrce   — RCE after rescaling predictions to the mean label (`NRCE`, global)
///     ctr, pctr, count, positives — `RateMetrics`
///
/// Each batch is validated once on arrival (an error names the index in that batch)
/// and the batch is not added when it fails. The examples are kept as Float32 for
/// AUROC and NRCE (12 bytes an example with weights); RCE and rates are running
/// sums. `compute` never throws: a metric that is undefined for the data seen (no
/// examples, one class only) is left out of the result, and `errors` says why.
///
///     var m = BinaryClassificationMetrics()
///     for b in batches { try m.append(predictions: b.p, labels: b.y, weights: b.w) }
///     let d = m.compute().dictionary   // ["auroc": 0.81, "rce": 12.3, "nrce": 12.9, "ctr": …]
public struct BinaryClassificationMetrics {
  public let labelThreshold: Double
  public let epsilon: Double
  var buffer = ExampleBuffer()
  var rates = RateAccumulator()
  var crossEntropy: RCEAccumulator

  public init(labelThreshold: Double = 0.5, epsilon: Double = RCE.defaultEpsilon) {
    self.labelThreshold = labelThreshold
    self.epsilon = epsilon
    crossEntropy = RCEAccumulator(epsilon: epsilon)
  }

  /// Number of examples appended so far.
  public var count: Int { buffer.count }

  /// Appends one batch of probabilities (finite; clipped to [ε, 1−ε] for cross entropy),
  /// labels, and optional non-negative weights.
  public mutating func append(predictions: [Float], labels: [Float], weights: [Float]? = nil) throws {
    try InputValidation.checkBatch(scores: predictions, scoreName: "predictions", labels: labels, weights: weights, allowInfiniteScores: false)
    appendValidated(predictions, labels, weights)
  }

  /// Appends Double values; AUROC and NRCE see them rounded to Float32.
  public mutating func append(predictions: [Double], labels: [Double], weights: [Double]? = nil) throws {
    try InputValidation.checkBatch(scores: predictions, scoreName: "predictions", labels: labels, weights: weights, allowInfiniteScores: false)
    appendValidated(predictions, labels, weights)
  }

  /// Adds a batch that has already passed `InputValidation.checkBatch` (finite predictions).
  mutating func appendValidated(_ p: [Float], _ y: [Float], _ w: [Float]?) {
    buffer.append(scores: p, labels: y, weights: w)
    rates.addValidated(p, y, w)
    crossEntropy.addValidated(p, y, w)
  }

  mutating func appendValidated(_ p: [Double], _ y: [Double], _ w: [Double]?) {
    buffer.append(scores: p, labels: y, weights: w)
    rates.addValidated(p, y, w)
    crossEntropy.addValidated(p, y, w)
  }

  /// All metrics of everything appended since the last `reset`.
  public func compute() -> BinaryClassificationResult {
    var result = BinaryClassificationResult(rates: rates.result)
    func attempt(_ key: String, _ body: () throws -> Double) -> Double? {
      do { return try body() } catch {
        result.errors[key] = (error as? MetricsError) ?? .undefined(metric: key, reason: "\(error)")
        return nil
      }
    }
    result.auroc = attempt("auroc") {
      try AUROC.mannWhitney(scores: buffer.scores, labels: buffer.labels, weights: buffer.weights, labelThreshold: labelThreshold)
    }
    result.rce = attempt("rce") { try crossEntropy.compute() }
    result.nrce = attempt("nrce") { try NRCE.globallyNormalised(buffer.scores, buffer.labels, buffer.weights, epsilon: epsilon) }
    return result
  }

  public mutating func reset() {
    buffer.removeAll()
    rates.reset()
    crossEntropy.reset()
  }
}

/// The metrics of one task (or one stratum of it). A metric is `nil` when undefined
/// for the data, and `errors[name]` then holds the reason.
///
///     result.dictionary["auroc"]   // nil when only one class was seen
public struct BinaryClassificationResult: Equatable, Sendable {
  public var rates: RateMetrics
  public var auroc: Double? = nil
  public var rce: Double? = nil
  public var nrce: Double? = nil
  /// Why a metric is absent, keyed like `dictionary` ("auroc", "rce", "nrce").
  public var errors: [String: MetricsError] = [:]

  public init(rates: RateMetrics) { self.rates = rates }

  /// The defined metrics by name: `auroc`, `rce`, `nrce`, `ctr`, `pctr`, `count`
  /// (examples) and `positives` (Σ labels, the original's `Count`).
  public var dictionary: [String: Double] {
    var d: [String: Double] = ["count": Double(rates.count), "positives": rates.positives]
    d["ctr"] = rates.ctr
    d["pctr"] = rates.pctr
    d["auroc"] = auroc
    d["rce"] = rce
    d["nrce"] = nrce
    return d
  }
}
