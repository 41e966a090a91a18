import Foundation

/// A generic optimizer section (the original's `optimizers/config.py` `OptimizerConfig`,
/// used by TwHIN's embedding tables and translations): exactly one of `adam`, `sgd`,
/// `adagrad`, each with its own base `lr`, and an optional schedule.
///
///     optimizer:
///       sgd: {lr: 0.01}
///       learning_rate: {constant: 0.01}
public struct OptimizerConfig: Codable, Equatable, Sendable {
  public var learningRate: LearningRateConfig?
  public var adam: Adam?
  public var sgd: SGD?
  public var adagrad: Adagrad?

  /// PyTorch `Adam(lr, betas, eps)`.
  public struct Adam: Codable, Equatable, Sendable {
    public var lr: Double
    public var betas: [Double]
    public var eps: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case lr, betas, eps }

    public init(lr: Double, betas: [Double] = [0.9, 0.999], eps: Double = 1e-7) {
      self.lr = lr
      self.betas = betas
      self.eps = eps
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      lr = try c.decode(.lr)
      betas = try c.decode(.betas, default: [0.9, 0.999])
      eps = try c.decode(.eps, default: 1e-7)
      guard betas.count == 2 else {
        throw c.error(.betas, .invalidValue, "betas has \(betas.count) entries", "Give two: [beta_1, beta_2], e.g. [0.9, 0.999].")
      }
    }
  }

  /// PyTorch `SGD(lr, momentum)`.
  public struct SGD: Codable, Equatable, Sendable {
    public var lr: Double
    public var momentum: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case lr, momentum }

    public init(lr: Double, momentum: Double = 0) {
      self.lr = lr
      self.momentum = momentum
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      lr = try c.decode(.lr)
      momentum = try c.decode(.momentum, default: 0)
    }
  }

  /// PyTorch `Adagrad(lr, eps)` (initial accumulator 0).
  public struct Adagrad: Codable, Equatable, Sendable {
    public var lr: Double
    public var eps: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case lr, eps }

    public init(lr: Double, eps: Double = 0) {
      self.lr = lr
      self.eps = eps
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      lr = try c.decode(.lr)
      eps = try c.decode(.eps, default: 0)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case learningRate = "learning_rate", adam, sgd, adagrad
  }

  public init(learningRate: LearningRateConfig? = nil, adam: Adam? = nil, sgd: SGD? = nil, adagrad: Adagrad? = nil) {
    self.learningRate = learningRate
    self.adam = adam
    self.sgd = sgd
    self.adagrad = adagrad
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    try c.exactlyOne(of: [.adam, .sgd, .adagrad])
    learningRate = try c.decodeIfPresent(.learningRate)
    adam = try c.decodeIfPresent(.adam)
    sgd = try c.decodeIfPresent(.sgd)
    adagrad = try c.decodeIfPresent(.adagrad)
  }
}
