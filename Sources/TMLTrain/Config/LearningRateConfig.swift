import Foundation

/// A learning-rate schedule (the original's `LearningRate`): exactly one of
///
///     constant: c                                   → c
///     piecewise_constant: {learning_rate_boundaries: b, learning_rate_values: v}
///                                                   → v[bisect_right(b, step)]
///     linear_ramp_to_constant: {learning_rate, num_ramp_steps}
///                                                   → min(lr, lr/num_ramp_steps · step)
///     linear_ramp_to_cosine: {learning_rate, final_learning_rate, num_ramp_steps, final_num_steps}
///                                                   → ramp, then cosine decay to final
///
/// Steps count from 0. `TMLNN.LearningRateSchedule` computes the rates.
///
///     backbone_learning_rate:
///       linear_ramp_to_constant: {learning_rate: 0.0001, num_ramp_steps: 1000}
public struct LearningRateConfig: Codable, Equatable, Sendable {
  public var constant: Double?
  public var linearRampToCosine: LinearRampToCosine?
  public var linearRampToConstant: LinearRampToConstant?
  public var piecewiseConstant: PiecewiseConstant?

  /// `piecewise_constant`: `values` has one more entry than `boundaries`.
  public struct PiecewiseConstant: Codable, Equatable, Sendable {
    public var learningRateBoundaries: [Int]
    public var learningRateValues: [Double]

    enum CodingKeys: String, CodingKey, CaseIterable {
      case learningRateBoundaries = "learning_rate_boundaries", learningRateValues = "learning_rate_values"
    }

    public init(learningRateBoundaries: [Int], learningRateValues: [Double]) {
      self.learningRateBoundaries = learningRateBoundaries
      self.learningRateValues = learningRateValues
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      learningRateBoundaries = try c.decode(.learningRateBoundaries)
      learningRateValues = try c.decode(.learningRateValues)
      guard learningRateValues.count == learningRateBoundaries.count + 1 else {
        throw c.error(.learningRateValues, .invalidValue,
                      "\(learningRateValues.count) values for \(learningRateBoundaries.count) boundaries",
                      "Give one more value than boundaries: the rate before the first boundary, then one per boundary.")
      }
      guard zip(learningRateBoundaries, learningRateBoundaries.dropFirst()).allSatisfy({ $0 < $1 }) else {
        throw c.error(.learningRateBoundaries, .invalidValue, "the boundaries are not increasing",
                      "List the step boundaries in increasing order.")
      }
    }
  }

  public struct LinearRampToConstant: Codable, Equatable, Sendable {
    public var learningRate: Double
    /// Steps to ramp up from zero.
    public var numRampSteps: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
      case learningRate = "learning_rate", numRampSteps = "num_ramp_steps"
    }

    public init(learningRate: Double, numRampSteps: Int) {
      self.learningRate = learningRate
      self.numRampSteps = numRampSteps
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      learningRate = try c.decode(.learningRate)
      numRampSteps = try c.decode(.numRampSteps, .positive)
    }
  }

  public struct LinearRampToCosine: Codable, Equatable, Sendable {
    public var learningRate: Double
    public var finalLearningRate: Double
    /// Steps to ramp up from zero.
    public var numRampSteps: Int
    /// Step where the cosine decay ends.
    public var finalNumSteps: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
      case learningRate = "learning_rate", finalLearningRate = "final_learning_rate"
      case numRampSteps = "num_ramp_steps", finalNumSteps = "final_num_steps"
    }

    public init(learningRate: Double, finalLearningRate: Double, numRampSteps: Int, finalNumSteps: Int) {
      self.learningRate = learningRate
      self.finalLearningRate = finalLearningRate
      self.numRampSteps = numRampSteps
      self.finalNumSteps = finalNumSteps
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      learningRate = try c.decode(.learningRate)
      finalLearningRate = try c.decode(.finalLearningRate)
      numRampSteps = try c.decode(.numRampSteps, .positive)
      finalNumSteps = try c.decode(.finalNumSteps, .positive)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case constant, linearRampToCosine = "linear_ramp_to_cosine", linearRampToConstant = "linear_ramp_to_constant"
    case piecewiseConstant = "piecewise_constant"
  }

  public init(constant: Double? = nil, linearRampToCosine: LinearRampToCosine? = nil,
              linearRampToConstant: LinearRampToConstant? = nil, piecewiseConstant: PiecewiseConstant? = nil) {
    self.constant = constant
    self.linearRampToCosine = linearRampToCosine
    self.linearRampToConstant = linearRampToConstant
    self.piecewiseConstant = piecewiseConstant
  }

  public static func constant(_ rate: Double) -> LearningRateConfig { LearningRateConfig(constant: rate) }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    try c.exactlyOne(of: CodingKeys.allCases)
    constant = try c.decodeIfPresent(.constant)
    linearRampToCosine = try c.decodeIfPresent(.linearRampToCosine)
    linearRampToConstant = try c.decodeIfPresent(.linearRampToConstant)
    piecewiseConstant = try c.decodeIfPresent(.piecewiseConstant)
  }
}
