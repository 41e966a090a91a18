/// Why a metric could not be computed, or why its input was rejected.
///
/// Metrics never trap and never return NaN: empty input, a missing class, a zero
/// denominator or a non-finite input each become one of these cases, whose
/// `description` says what was wrong and what to do.
///
///     do { _ = try auroc(scores: s, labels: y) } catch let e as MetricsError { print(e) }
public enum MetricsError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Two inputs that must be parallel have different lengths.
  case lengthMismatch(what: String, expected: Int, actual: Int)
  /// An input holds NaN (or ±∞ where a finite value is required) at `index`.
  case nonFinite(what: String, index: Int, value: Double)
  /// A weight in `what` is negative at `index`.
  case negativeWeight(what: String, index: Int, value: Double)
  /// The metric saw no examples (or only examples of total weight 0).
  case noExamples(metric: String)
  /// Only one class is present (by count or by weight), so the metric is undefined.
  case missingClass(metric: String, missing: MissingClass)
  /// The metric's formula divides by zero for another reason (stated in `reason`).
  case undefined(metric: String, reason: String)
  /// An argument is out of its allowed range.
  case invalidArgument(String)

  /// The class absent from the accumulated data.
  public enum MissingClass: String, Sendable {
    case positive, negative
  }

  /// Equal when they say the same thing (so a NaN `value` equals NaN).
  public static func == (a: MetricsError, b: MetricsError) -> Bool { a.description == b.description }

  public var description: String {
    switch self {
    case let .lengthMismatch(what, expected, actual):
      return "\(what) has \(actual) values but \(expected) were expected; pass arrays of equal length (one value per example)."
    case let .nonFinite(what, index, value):
      return "\(what) at index \(index) is \(value); metrics need finite values — clean or drop the example before evaluation."
    case let .negativeWeight(what, index, value):
      return "\(what) at index \(index) is \(value); example weights must be ≥ 0."
    case let .noExamples(metric):
      return "\(metric) is undefined: no examples (or total weight 0) were accumulated; evaluate over at least one weighted example."
    case let .missingClass(metric, missing):
      return "\(metric) is undefined: the \(missing.rawValue) class is missing (no \(missing.rawValue) examples with weight > 0); evaluate over data with both classes."
    case let .undefined(metric, reason):
      return "\(metric) is undefined: \(reason)."
    case let .invalidArgument(message):
      return message
    }
  }
}
