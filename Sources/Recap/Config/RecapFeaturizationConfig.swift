import TMLTrain

/// `featurization_config:` — how continuous features are normalised before the
/// backbone (the original's `FeaturizationConfig`): exactly one of
/// `log1p_abs_config | clip_log1p_abs_config | z_score_log_config | double_norm_log_config`,
/// and the raw features concatenated after it (`feature_names_to_concat`, default `[binary]`).
public struct RecapFeaturizationConfig: Codable, Equatable, Sendable {
  public var log1pAbsConfig: Log1pAbs?
  public var clipLog1pAbsConfig: ClipLog1pAbs?
  public var zScoreLogConfig: ZScoreLog?
  public var doubleNormLogConfig: DoubleNormLog?
  public var featureNamesToConcat: [String]

  /// `log1p_abs_config: {}` — x ↦ sign(x)·log1p(|x|) only.
  public struct Log1pAbs: Codable, Equatable, Sendable {
    enum CodingKeys: CodingKey, CaseIterable {}
    public init() {}
    public init(from decoder: any Decoder) throws { _ = try StrictContainer(decoder, keyedBy: CodingKeys.self) }
  }

  /// `clip_log1p_abs_config:` — sign(x)·log1p(|x|) clipped to ±`clip_magnitude`.
  public struct ClipLog1pAbs: Codable, Equatable, Sendable {
    public var clipMagnitude: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case clipMagnitude = "clip_magnitude" }

    public init(clipMagnitude: Double = 3e38) { self.clipMagnitude = clipMagnitude }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      clipMagnitude = try c.decode(.clipMagnitude, default: 3e38, .nonNegative)
    }
  }

  /// `z_score_log_config:` — z-scores from precomputed feature statistics (`analysis_path`).
  public struct ZScoreLog: Codable, Equatable, Sendable {
    public var analysisPath: String
    public var schemaPath: String?
    public var clipMagnitude: Double
    public var useBatchNorm: Bool
    public var useRenorm: Bool
    public var useBqStats: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
      case analysisPath = "analysis_path", schemaPath = "schema_path", clipMagnitude = "clip_magnitude"
      case useBatchNorm = "use_batch_norm", useRenorm = "use_renorm", useBqStats = "use_bq_stats"
    }

    public init(analysisPath: String, schemaPath: String? = nil, clipMagnitude: Double = 5, useBatchNorm: Bool = false,
                useRenorm: Bool = false, useBqStats: Bool = false) {
      self.analysisPath = analysisPath
      self.schemaPath = schemaPath
      self.clipMagnitude = clipMagnitude
      self.useBatchNorm = useBatchNorm
      self.useRenorm = useRenorm
      self.useBqStats = useBqStats
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      analysisPath = try c.decode(.analysisPath)
      schemaPath = try c.decodeIfPresent(.schemaPath)
      clipMagnitude = try c.decode(.clipMagnitude, default: 5.0)
      useBatchNorm = try c.decode(.useBatchNorm, default: false)
      useRenorm = try c.decode(.useRenorm, default: false)
      useBqStats = try c.decode(.useBqStats, default: false)
    }
  }

  /// `double_norm_log_config:` — the ranker's input normalisation:
  ///
  ///     x = sign(x)·log1p(|x|);  x = BatchNorm1d(x)?;  x = clamp(x, ±clip_magnitude)
  ///     x = concat(x, binary);   x = LayerNorm(x, epsilon)?
  public struct DoubleNormLog: Codable, Equatable, Sendable {
    public var batchNormConfig: RecapBatchNormConfig?
    public var clipMagnitude: Double
    public var layerNormConfig: RecapLayerNormConfig?

    enum CodingKeys: String, CodingKey, CaseIterable {
      case batchNormConfig = "batch_norm_config", clipMagnitude = "clip_magnitude", layerNormConfig = "layer_norm_config"
    }

    public init(batchNormConfig: RecapBatchNormConfig? = nil, clipMagnitude: Double = 5, layerNormConfig: RecapLayerNormConfig? = nil) {
      self.batchNormConfig = batchNormConfig
      self.clipMagnitude = clipMagnitude
      self.layerNormConfig = layerNormConfig
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      batchNormConfig = try c.decodeIfPresent(.batchNormConfig)
      clipMagnitude = try c.decode(.clipMagnitude, default: 5.0)
      layerNormConfig = try c.decodeIfPresent(.layerNormConfig)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case log1pAbsConfig = "log1p_abs_config", clipLog1pAbsConfig = "clip_log1p_abs_config"
    case zScoreLogConfig = "z_score_log_config", doubleNormLogConfig = "double_norm_log_config"
    case featureNamesToConcat = "feature_names_to_concat"
  }

  public init(log1pAbsConfig: Log1pAbs? = nil, clipLog1pAbsConfig: ClipLog1pAbs? = nil, zScoreLogConfig: ZScoreLog? = nil,
              doubleNormLogConfig: DoubleNormLog? = nil, featureNamesToConcat: [String] = ["binary"]) {
    self.log1pAbsConfig = log1pAbsConfig
    self.clipLog1pAbsConfig = clipLog1pAbsConfig
    self.zScoreLogConfig = zScoreLogConfig
    self.doubleNormLogConfig = doubleNormLogConfig
    self.featureNamesToConcat = featureNamesToConcat
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    try c.exactlyOne(of: [.log1pAbsConfig, .clipLog1pAbsConfig, .zScoreLogConfig, .doubleNormLogConfig])
    log1pAbsConfig = try c.decodeIfPresent(.log1pAbsConfig)
    clipLog1pAbsConfig = try c.decodeIfPresent(.clipLog1pAbsConfig)
    zScoreLogConfig = try c.decodeIfPresent(.zScoreLogConfig)
    doubleNormLogConfig = try c.decodeIfPresent(.doubleNormLogConfig)
    featureNamesToConcat = try c.decode(.featureNamesToConcat, default: ["binary"])
  }
}
