/// Count and rates of one task:
///
///     count     = number of examples
///     positives = Σ y                      (the original's `Count`: a sum of labels)
///     weightSum = Σ w
///     ctr       = Σ w·y / Σ w              (weighted mean label)
///     pctr      = Σ w·p / Σ w              (weighted mean prediction)
///
/// The original's `Ctr`/`Pctr` are unweighted means; with unit weights (the default)
/// the two agree. `ctr`/`pctr` are `nil`, never NaN, when the total weight is 0.
///
///     let r = try RateMetrics(predictions: [0.2, 0.6], labels: [0, 1])   // ctr 0.5, pctr 0.4
public struct RateMetrics: Equatable, Sendable {
  public var count: Int
  public var positives: Double
  public var weightSum: Double
  public var ctr: Double?
  public var pctr: Double?

  /// One-shot rates of Float32 predictions and labels.
  public init(predictions: [Float], labels: [Float], weights: [Float]? = nil) throws {
    var acc = RateAccumulator()
    try acc.append(predictions: predictions, labels: labels, weights: weights)
    self = acc.result
  }

  /// One-shot rates of Float64 predictions and labels.
  public init(predictions: [Double], labels: [Double], weights: [Double]? = nil) throws {
    var acc = RateAccumulator()
    try acc.append(predictions: predictions, labels: labels, weights: weights)
    self = acc.result
  }

  init(count: Int, positives: Double, weightSum: Double, ctr: Double?, pctr: Double?) {
    self.count = count
    self.positives = positives
    self.weightSum = weightSum
    self.ctr = ctr
    self.pctr = pctr
  }
}

/// Streaming count / CTR / pCTR: running sums in Double, O(1) memory.
///
///     var acc = RateAccumulator(); try acc.append(predictions: p, labels: y); acc.result.ctr
public struct RateAccumulator {
  public private(set) var count = 0
  private var positives = 0.0, weightSum = 0.0, weightedLabelSum = 0.0, weightedPredictionSum = 0.0

  public init() {}

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
    count += p.count
    for i in p.indices {
      let wi = w.map { Double($0[i]) } ?? 1, yi = Double(y[i])
      positives += yi
      weightSum += wi
      weightedLabelSum += wi * yi
      weightedPredictionSum += wi * Double(p[i])
    }
  }

  /// The rates of everything appended since the last `reset`.
  public var result: RateMetrics {
    let defined = weightSum > 0
    return RateMetrics(
      count: count, positives: positives, weightSum: weightSum,
      ctr: defined ? weightedLabelSum / weightSum : nil,
      pctr: defined ? weightedPredictionSum / weightSum : nil)
  }

  public mutating func reset() { self = RateAccumulator() }
}
