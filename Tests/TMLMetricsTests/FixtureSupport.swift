import Foundation
import TMLMetrics
import XCTest

/// `Fixtures/expected_metrics.json`, written by `tools/metrics/make_expected.py`
/// (scikit-learn AUROC, numpy RCE/NRCE, ranks). Inputs are exact float32 values.
struct MetricsFixture: Decodable {
  struct Values: Decodable {
    var count: Int
    var positives: Double
    var ctr: Double
    var pctr: Double
    var missingClass: String?
    var auroc: Double?
    var rce: Double?
    var nrce: Double?
    var nrceRunning: Double?
  }

  struct Binary: Decodable {
    var name: String
    var note: String
    var predictions: [Double]
    var labels: [Double]
    var weights: [Double]?
    var chunks: [Int]
    var expected: Values

    var floatPredictions: [Float] { predictions.map(Float.init) }
    var floatLabels: [Float] { labels.map(Float.init) }
    var floatWeights: [Float]? { weights.map { $0.map(Float.init) } }

    /// `(start, end)` of each chunk, in order.
    var chunkRanges: [Range<Int>] {
      var start = 0
      return chunks.map { size in defer { start += size }; return start..<(start + size) }
    }
  }

  struct Stratified: Decodable {
    var tasks: [String]
    var batchSize: Int
    var chunks: [Int]
    var stratifiers: [StratifierConfig]
    var probabilities: [Double]
    var labels: [Double]
    var weights: [Double]
    var discreteWidth: Int
    var discrete: [Int]
    var expected: [String: Double]
  }

  struct Ranking: Decodable {
    var scores: [Double]
    var candidates: [Double]
    var candidatesPerItem: Int
    var excluded: [Bool]
    var ranks: [Double]
    var expected: [String: Double]
  }

  struct SampledAUCCase: Decodable {
    var positiveScores: [Double]
    var negativeScores: [Double]
    var expected: Double
  }

  var epsilon: Double
  var binary: [Binary]
  var stratified: Stratified
  var ranking: Ranking
  var sampledAuc: SampledAUCCase

  static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/expected_metrics.json")

  static func load() throws -> MetricsFixture {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(MetricsFixture.self, from: Data(contentsOf: url))
  }

  /// The cases where every metric is defined.
  var definedCases: [Binary] { binary.filter { $0.expected.missingClass == nil } }
}

/// |actual − expected| ≤ tolerance · max(1, |expected|): relative, but absolute near 0.
func assertClose(
  _ actual: Double?, _ expected: Double?, relative tolerance: Double, _ what: String,
  file: StaticString = #filePath, line: UInt = #line
) {
  guard let a = actual, let e = expected else {
    XCTAssertEqual(actual == nil, expected == nil, "\(what): got \(String(describing: actual)), expected \(String(describing: expected))", file: file, line: line)
    return
  }
  XCTAssertLessThanOrEqual(abs(a - e), tolerance * max(1, abs(e)), "\(what): got \(a), expected \(e)", file: file, line: line)
}

/// Asserts that `body` throws exactly `expected`.
func assertThrows<T>(
  _ expected: MetricsError, _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertThrowsError(try body(), file: file, line: line) { error in
    XCTAssertEqual(error as? MetricsError, expected, file: file, line: line)
  }
}

/// A small deterministic generator for property tests (SplitMix64).
struct TestRandom {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in [0, 1).
  mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
  mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in Float(uniform()) } }
  mutating func labels(_ n: Int, rate: Double = 0.3) -> [Float] { (0..<n).map { _ in uniform() < rate ? 1 : 0 } }
}
