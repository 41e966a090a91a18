/// One metrics stratum, as the original's `StratifierConfig` (`model.stratifiers` in a
/// Recap config): the examples whose discrete feature in column `index` equals `value`.
/// `name` names the feature; the stratum's metrics are keyed `"<name>_<value>"`.
///
/// Decoding rejects unknown keys, as the original's pydantic schemas do.
///
///     stratifiers:
///       - {name: level, index: 2, value: 9}      # → metrics "…/level_9/auroc"
public struct StratifierConfig: Codable, Hashable, Sendable {
  public var name: String
  public var index: Int
  public var value: Int

  public init(name: String, index: Int, value: Int) {
    self.name = name
    self.index = index
    self.value = value
  }

  /// The key of this stratum's metrics: `"<name>_<value>"`.
  public var key: String { "\(name)_\(value)" }

  private enum CodingKeys: String, CodingKey { case name, index, value }

  private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  public init(from decoder: Decoder) throws {
    let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
      .filter { CodingKeys(stringValue: $0) == nil }
    if !unknown.isEmpty {
      throw DecodingError.dataCorrupted(.init(
        codingPath: decoder.codingPath,
        debugDescription: "unknown key(s) \(unknown.sorted()) in a stratifier; the allowed keys are name, index, value"))
    }
    let c = try decoder.container(keyedBy: CodingKeys.self)
    name = try c.decode(String.self, forKey: .name)
    index = try c.decode(Int.self, forKey: .index)
    value = try c.decode(Int.self, forKey: .value)
  }
}

/// `BinaryClassificationMetrics` of one task, overall and per stratum: each
/// `StratifierConfig` selects the rows whose `discreteFeatures[row, index] == value`
/// (row-major, `discreteWidth` columns), as the original's `StratifyMixin`. A stratum
/// with no rows in a batch simply gains nothing from it.
///
/// Unlike the original, which silently reports overall metrics under a stratum's name
/// when a batch carries no stratifier features, a batch without `discreteFeatures`
/// (while stratifiers are configured) is an error. A batch that fails validation is
/// added to nothing.
///
///     var m = try StratifiedBinaryClassificationMetrics(stratifiers: [.init(name: "level", index: 2, value: 9)])
///     try m.append(predictions: p, labels: y, discreteFeatures: d, discreteWidth: 4)
///     m.compute().dictionary()   // ["auroc": …, "level_9/auroc": …, …]
public struct StratifiedBinaryClassificationMetrics {
  public let stratifiers: [StratifierConfig]
  public private(set) var overall: BinaryClassificationMetrics
  /// One accumulator per stratifier, in the order of `stratifiers`.
  public private(set) var strata: [BinaryClassificationMetrics]

  public init(stratifiers: [StratifierConfig] = [], labelThreshold: Double = 0.5, epsilon: Double = RCE.defaultEpsilon) throws {
    var seen = Set<String>()
    for s in stratifiers {
      if s.index < 0 {
        throw MetricsError.invalidArgument("stratifier '\(s.name)' has index \(s.index); it must be a column (≥ 0) of the discrete features")
      }
      if !seen.insert(s.key).inserted {
        throw MetricsError.invalidArgument("stratifier '\(s.name)' with value \(s.value) is configured twice; list each (name, value) once")
      }
    }
    self.stratifiers = stratifiers
    overall = BinaryClassificationMetrics(labelThreshold: labelThreshold, epsilon: epsilon)
    strata = Array(repeating: overall, count: stratifiers.count)
  }

  /// Appends one batch: predictions, labels and optional weights of `B` examples, and
  /// their discrete features `[B, discreteWidth]` row-major (needed iff stratifiers exist).
  public mutating func append(
    predictions: [Float], labels: [Float], weights: [Float]? = nil, discreteFeatures: [Int]? = nil, discreteWidth: Int = 0
  ) throws {
    try InputValidation.checkBatch(scores: predictions, scoreName: "predictions", labels: labels, weights: weights, allowInfiniteScores: false)
    let rows = try strataRows(count: predictions.count, discreteFeatures, discreteWidth)
    appendValidated(predictions, labels, weights, rows: rows)
  }

  public mutating func append(
    predictions: [Double], labels: [Double], weights: [Double]? = nil, discreteFeatures: [Int]? = nil, discreteWidth: Int = 0
  ) throws {
    try InputValidation.checkBatch(scores: predictions, scoreName: "predictions", labels: labels, weights: weights, allowInfiniteScores: false)
    let rows = try strataRows(count: predictions.count, discreteFeatures, discreteWidth)
    appendValidated(predictions, labels, weights, rows: rows)
  }

  mutating func appendValidated(_ p: [Float], _ y: [Float], _ w: [Float]?, rows: [[Int]]) {
    overall.appendValidated(p, y, w)
    for (k, r) in rows.enumerated() where !r.isEmpty {
      strata[k].appendValidated(r.map { p[$0] }, r.map { y[$0] }, w.map { w in r.map { w[$0] } })
    }
  }

  mutating func appendValidated(_ p: [Double], _ y: [Double], _ w: [Double]?, rows: [[Int]]) {
    overall.appendValidated(p, y, w)
    for (k, r) in rows.enumerated() where !r.isEmpty {
      strata[k].appendValidated(r.map { p[$0] }, r.map { y[$0] }, w.map { w in r.map { w[$0] } })
    }
  }

  /// The rows of a batch of `count` examples in each stratum, after checking the shape.
  func strataRows(count: Int, _ discrete: [Int]?, _ width: Int) throws -> [[Int]] {
    if stratifiers.isEmpty { return [] }
    guard let discrete else {
      throw MetricsError.invalidArgument(
        "stratifiers \(stratifiers.map(\.key)) are configured but the batch has no discrete features; pass them, or remove `stratifiers`")
    }
    if width <= 0 || discrete.count != count * width {
      throw MetricsError.invalidArgument(
        "discrete features hold \(discrete.count) values; expected \(count) examples × discreteWidth \(width)")
    }
    return try stratifiers.map { s in
      if s.index >= width {
        throw MetricsError.invalidArgument(
          "stratifier '\(s.name)' reads discrete column \(s.index) but the batch has only \(width) discrete features")
      }
      return (0..<count).filter { discrete[$0 * width + s.index] == s.value }
    }
  }

  /// Metrics overall and per stratum.
  public func compute() -> StratifiedResult {
    var strataResults: [String: BinaryClassificationResult] = [:]
    for (s, m) in zip(stratifiers, strata) { strataResults[s.key] = m.compute() }
    return StratifiedResult(overall: overall.compute(), strata: strataResults)
  }

  public mutating func reset() {
    overall.reset()
    for k in strata.indices { strata[k].reset() }
  }
}

/// Metrics of one task overall and in each stratum (keyed by `StratifierConfig.key`).
///
///     result.strata["level_9"]?.auroc;  result.dictionary(prefix: "fav/")["fav/level_9/rce"]
public struct StratifiedResult: Equatable, Sendable {
  public var overall: BinaryClassificationResult
  public var strata: [String: BinaryClassificationResult]

  /// Flat names: `"<prefix>auroc"` overall and `"<prefix><stratum>/auroc"` per stratum.
  public func dictionary(prefix: String = "") -> [String: Double] {
    var d: [String: Double] = [:]
    for (name, v) in overall.dictionary { d[prefix + name] = v }
    for (stratum, r) in strata {
      for (name, v) in r.dictionary { d["\(prefix)\(stratum)/\(name)"] = v }
    }
    return d
  }
}
