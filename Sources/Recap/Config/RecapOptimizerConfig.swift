import TMLTrain

/// `optimizer:` — the ranker's optimizer (the original's `RecapOptimizerConfig`):
/// exactly one algorithm (`adam`; SwiftTML adds `sgd` and `adagrad`) and exactly one of
/// `multi_task_learning_rates` (a schedule per task tower and one for everything else)
/// or `single_task_learning_rate` (one schedule for all parameters).
///
/// A parameter belongs to task t's group when its name contains `.<t with . → __>.`.
///
///     optimizer:
///       adam: {beta_1: 0.95, beta_2: 0.999, epsilon: 1.0e-07}
///       multi_task_learning_rates:
///         backbone_learning_rate: {linear_ramp_to_constant: {learning_rate: 0.0001, num_ramp_steps: 1000}}
///         tower_learning_rates: {recap.engagement.is_favorited: {constant: 0.0008}}
public struct RecapOptimizerConfig: Codable, Equatable, Sendable {
  public var multiTaskLearningRates: MultiTaskLearningRates?
  public var singleTaskLearningRate: LearningRateConfig?
  public var adam: Adam?
  public var sgd: SGD?
  public var adagrad: Adagrad?

  /// PyTorch Adam with betas (`beta_1`, `beta_2`) and `epsilon`.
  public struct Adam: Codable, Equatable, Sendable {
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case beta1 = "beta_1", beta2 = "beta_2", epsilon }

    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7) {
      self.beta1 = beta1
      self.beta2 = beta2
      self.epsilon = epsilon
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      beta1 = try c.decode(.beta1, default: 0.9)
      beta2 = try c.decode(.beta2, default: 0.999)
      epsilon = try c.decode(.epsilon, default: 1e-7)
    }
  }

  /// PyTorch SGD with `momentum` (SwiftTML extension; the original's ranker has Adam only).
  public struct SGD: Codable, Equatable, Sendable {
    public var momentum: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case momentum }

    public init(momentum: Double = 0) { self.momentum = momentum }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      momentum = try c.decode(.momentum, default: 0.0, .nonNegative)
    }
  }

  /// PyTorch Adagrad (initial accumulator 0) with `epsilon`, default PyTorch's 1e-10
  /// (SwiftTML extension; the original's ranker has Adam only).
  public struct Adagrad: Codable, Equatable, Sendable {
    public var epsilon: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case epsilon }

    public init(epsilon: Double = 1e-10) { self.epsilon = epsilon }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      epsilon = try c.decode(.epsilon, default: 1e-10, .nonNegative)
    }
  }

  /// `multi_task_learning_rates:` — task name → its tower's schedule (file order), and the
  /// schedule of every other parameter (`backbone_learning_rate`).
  public struct MultiTaskLearningRates: Codable, Equatable, Sendable {
    public var towerLearningRates: ConfigMap<LearningRateConfig>
    public var backboneLearningRate: LearningRateConfig?

    enum CodingKeys: String, CodingKey, CaseIterable {
      case towerLearningRates = "tower_learning_rates", backboneLearningRate = "backbone_learning_rate"
    }

    public init(towerLearningRates: ConfigMap<LearningRateConfig>, backboneLearningRate: LearningRateConfig? = nil) {
      self.towerLearningRates = towerLearningRates
      self.backboneLearningRate = backboneLearningRate
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      towerLearningRates = try c.decode(.towerLearningRates)
      backboneLearningRate = try c.decodeIfPresent(.backboneLearningRate)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case multiTaskLearningRates = "multi_task_learning_rates", singleTaskLearningRate = "single_task_learning_rate"
    case adam, sgd, adagrad
  }

  public init(multiTaskLearningRates: MultiTaskLearningRates? = nil, singleTaskLearningRate: LearningRateConfig? = nil,
              adam: Adam? = Adam(), sgd: SGD? = nil, adagrad: Adagrad? = nil) {
    self.multiTaskLearningRates = multiTaskLearningRates
    self.singleTaskLearningRate = singleTaskLearningRate
    self.adam = adam
    self.sgd = sgd
    self.adagrad = adagrad
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    try c.exactlyOne(of: [.adam, .sgd, .adagrad])
    try c.exactlyOne(of: [.multiTaskLearningRates, .singleTaskLearningRate])
    multiTaskLearningRates = try c.decodeIfPresent(.multiTaskLearningRates)
    singleTaskLearningRate = try c.decodeIfPresent(.singleTaskLearningRate)
    adam = try c.decodeIfPresent(.adam)
    sgd = try c.decodeIfPresent(.sgd)
    adagrad = try c.decodeIfPresent(.adagrad)
  }
}
