import TMLTrain

/// `batch_norm` / `batch_norm_config:` — a BatchNorm1d (the original's recap
/// `BatchNormConfig`): `affine` adds weight and bias; running stats update
/// `r = (1 − momentum)·r + momentum·batch`.
public struct RecapBatchNormConfig: Codable, Equatable, Sendable {
  public var affine: Bool
  public var momentum: Double

  enum CodingKeys: String, CodingKey, CaseIterable { case affine, momentum }

  public init(affine: Bool = true, momentum: Double = 0.1) {
    self.affine = affine
    self.momentum = momentum
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    affine = try c.decode(.affine, default: true)
    momentum = try c.decode(.momentum, default: 0.1, .positive)
  }
}

/// `dropout:` — inverted dropout with drop probability `rate`.
public struct RecapDropoutConfig: Codable, Equatable, Sendable {
  public var rate: Double

  enum CodingKeys: String, CodingKey, CaseIterable { case rate }

  public init(rate: Double = 0.1) { self.rate = rate }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    rate = try c.decode(.rate, default: 0.1, .positive)
  }
}

/// `layer_norm_config:` — a LayerNorm over the last axis with `epsilon`; `center`
/// (bias) and `scale` (weight) must agree, as PyTorch's `elementwise_affine` is one switch.
public struct RecapLayerNormConfig: Codable, Equatable, Sendable {
  public var epsilon: Double
  public var axis: Int
  public var center: Bool
  public var scale: Bool

  enum CodingKeys: String, CodingKey, CaseIterable { case epsilon, axis, center, scale }

  public init(epsilon: Double = 1e-3, axis: Int = -1, center: Bool = true, scale: Bool = true) {
    self.epsilon = epsilon
    self.axis = axis
    self.center = center
    self.scale = scale
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    epsilon = try c.decode(.epsilon, default: 1e-3)
    axis = try c.decode(.axis, default: -1)
    center = try c.decode(.center, default: true)
    scale = try c.decode(.scale, default: true)
  }
}
