import TMLTrain

/// A task tower or the shared backbone (the original's `TaskModel`): exactly one
/// architecture of `mlp_config | dcn_config | dlrm_config | mask_net_config`, an
/// optional affine map of the logit, and the positive-class weight of the task's loss.
///
///     recap.engagement.is_favorited:
///       mlp_config: {layer_sizes: [256, 128, 1]}
///       pos_weight: 1.0
public struct RecapTaskModelConfig: Codable, Equatable, Sendable {
  public var mlpConfig: RecapMLPConfig?
  public var dcnConfig: RecapDCNConfig?
  public var dlrmConfig: RecapDLRMConfig?
  public var maskNetConfig: RecapMaskNetConfig?
  /// z ↦ scale·z + bias on the tower's logit.
  public var affineMap: AffineMap?
  /// `pos_weight` of BCE-with-logits.
  public var posWeight: Double

  /// `affine_map:` — the logit's scale and bias (initial values of a learnable 1×1 Linear).
  public struct AffineMap: Codable, Equatable, Sendable {
    public var scale: Double
    public var bias: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case scale, bias }

    public init(scale: Double = 1, bias: Double = 0) {
      self.scale = scale
      self.bias = bias
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      scale = try c.decode(.scale, default: 1.0)
      bias = try c.decode(.bias, default: 0.0)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case mlpConfig = "mlp_config", dcnConfig = "dcn_config", dlrmConfig = "dlrm_config"
    case maskNetConfig = "mask_net_config", affineMap = "affine_map", posWeight = "pos_weight"
  }

  public init(mlpConfig: RecapMLPConfig? = nil, dcnConfig: RecapDCNConfig? = nil, dlrmConfig: RecapDLRMConfig? = nil,
              maskNetConfig: RecapMaskNetConfig? = nil, affineMap: AffineMap? = nil, posWeight: Double = 1) {
    self.mlpConfig = mlpConfig
    self.dcnConfig = dcnConfig
    self.dlrmConfig = dlrmConfig
    self.maskNetConfig = maskNetConfig
    self.affineMap = affineMap
    self.posWeight = posWeight
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    try c.exactlyOne(of: [.mlpConfig, .dcnConfig, .dlrmConfig, .maskNetConfig])
    mlpConfig = try c.decodeIfPresent(.mlpConfig)
    dcnConfig = try c.decodeIfPresent(.dcnConfig)
    dlrmConfig = try c.decodeIfPresent(.dlrmConfig)
    maskNetConfig = try c.decodeIfPresent(.maskNetConfig)
    affineMap = try c.decodeIfPresent(.affineMap)
    posWeight = try c.decode(.posWeight, default: 1.0)
  }
}
