import TMLTrain

/// `model:` — the Heavy Ranker's architecture (the original's recap `ModelConfig`).
///
/// `tasks` keeps file order: towers, heads and outputs follow it. `share_all` and
/// `share_partial` need a `backbone`; `share_none` forbids one.
///
///     model:
///       multi_task_type: share_all
///       backbone: {mask_net_config: {...}}
///       featurization_config: {double_norm_log_config: {...}}
///       tasks: {recap.engagement.is_favorited: {mlp_config: {layer_sizes: [256, 128, 1]}}}
public struct RecapModelConfig: Codable, Equatable, Sendable {
  /// Task name → tower, in file order.
  public var tasks: ConfigMap<RecapTaskModelConfig>
  public var largeEmbeddings: RecapLargeEmbeddingsConfig?
  public var smallEmbeddings: RecapSmallEmbeddingsConfig?
  public var positionDebiasConfig: PositionDebias?
  public var featurizationConfig: RecapFeaturizationConfig?
  public var multiTaskType: MultiTaskType
  public var backbone: RecapTaskModelConfig?
  public var stratifiers: [RecapStratifierConfig]?

  /// How towers share the backbone: `share_all` (towers read backbone(h)),
  /// `share_partial` (towers read concat(h, backbone(h))), `share_none` (towers read h).
  public enum MultiTaskType: String, ConfigEnum {
    case shareNone = "share_none", shareAll = "share_all", sharePartial = "share_partial"
  }

  /// `position_debias_config:` — a learned embedding of the display position (column
  /// `position_feature_index` of the discrete features, bucketed above `max_position`),
  /// dropped with `drop_probability` in training.
  public struct PositionDebias: Codable, Equatable, Sendable {
    public var maxPosition: Int
    public var numDims: Int
    public var dropProbability: Double
    public var positionFeatureIndex: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
      case maxPosition = "max_position", numDims = "num_dims", dropProbability = "drop_probability"
      case positionFeatureIndex = "position_feature_index"
    }

    public init(maxPosition: Int = 256, numDims: Int = 64, dropProbability: Double = 0.5, positionFeatureIndex: Int) {
      self.maxPosition = maxPosition
      self.numDims = numDims
      self.dropProbability = dropProbability
      self.positionFeatureIndex = positionFeatureIndex
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      maxPosition = try c.decode(.maxPosition, default: 256)
      numDims = try c.decode(.numDims, default: 64, .positive)
      dropProbability = try c.decode(.dropProbability, default: 0.5)
      positionFeatureIndex = try c.decode(.positionFeatureIndex)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case tasks, largeEmbeddings = "large_embeddings", smallEmbeddings = "small_embeddings"
    case positionDebiasConfig = "position_debias_config", featurizationConfig = "featurization_config"
    case multiTaskType = "multi_task_type", backbone, stratifiers
  }

  public init(tasks: ConfigMap<RecapTaskModelConfig>, largeEmbeddings: RecapLargeEmbeddingsConfig? = nil,
              smallEmbeddings: RecapSmallEmbeddingsConfig? = nil, positionDebiasConfig: PositionDebias? = nil,
              featurizationConfig: RecapFeaturizationConfig? = nil, multiTaskType: MultiTaskType = .shareNone,
              backbone: RecapTaskModelConfig? = nil, stratifiers: [RecapStratifierConfig]? = nil) {
    self.tasks = tasks
    self.largeEmbeddings = largeEmbeddings
    self.smallEmbeddings = smallEmbeddings
    self.positionDebiasConfig = positionDebiasConfig
    self.featurizationConfig = featurizationConfig
    self.multiTaskType = multiTaskType
    self.backbone = backbone
    self.stratifiers = stratifiers
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    tasks = try c.decode(.tasks)
    largeEmbeddings = try c.decodeIfPresent(.largeEmbeddings)
    smallEmbeddings = try c.decodeIfPresent(.smallEmbeddings)
    positionDebiasConfig = try c.decodeIfPresent(.positionDebiasConfig)
    featurizationConfig = try c.decodeIfPresent(.featurizationConfig)
    multiTaskType = try c.decode(.multiTaskType, default: .shareNone)
    backbone = try c.decodeIfPresent(.backbone)
    stratifiers = try c.decodeIfPresent(.stratifiers)
    switch multiTaskType {
    case .shareAll where backbone == nil, .sharePartial where backbone == nil:
      throw c.error(.backbone, .missingKey, "multi_task_type \(multiTaskType.rawValue) needs a backbone, but none is set",
                    "Add 'backbone:' with one architecture, or set multi_task_type: share_none.")
    case .shareNone where backbone != nil:
      throw c.error(.backbone, .invalidValue, "multi_task_type share_none cannot have a backbone",
                    "Remove 'backbone:' (or set it to null), or set multi_task_type: share_all or share_partial.")
    default:
      break
    }
    guard !tasks.isEmpty else {
      throw c.error(.tasks, .invalidValue, "no tasks are configured", "Add at least one task tower under 'tasks:'.")
    }
  }
}
