import TMLTrain

/// `mlp_config:` / `mlp:` — an MLP (the original's `MlpConfig`): per hidden size
/// Linear → BatchNorm1d? → ReLU → Dropout?, then a final Linear (→ ReLU when
/// `final_layer_activation`).
///
///     mlp_config: {layer_sizes: [256, 128, 1], batch_norm: {affine: false, momentum: 0.1}}
public struct RecapMLPConfig: Codable, Equatable, Sendable {
  public var layerSizes: [Int]
  public var batchNorm: RecapBatchNormConfig?
  public var dropout: RecapDropoutConfig?
  public var finalLayerActivation: Bool

  enum CodingKeys: String, CodingKey, CaseIterable {
    case layerSizes = "layer_sizes", batchNorm = "batch_norm", dropout
    case finalLayerActivation = "final_layer_activation"
  }

  public init(layerSizes: [Int], batchNorm: RecapBatchNormConfig? = nil, dropout: RecapDropoutConfig? = nil,
              finalLayerActivation: Bool = false) {
    self.layerSizes = layerSizes
    self.batchNorm = batchNorm
    self.dropout = dropout
    self.finalLayerActivation = finalLayerActivation
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    layerSizes = try c.decode(.layerSizes, .allPositive)
    batchNorm = try c.decodeIfPresent(.batchNorm)
    dropout = try c.decodeIfPresent(.dropout)
    finalLayerActivation = try c.decode(.finalLayerActivation, default: false)
  }
}
