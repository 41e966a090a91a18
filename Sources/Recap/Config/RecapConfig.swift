import Foundation
import TMLTrain

/// One Heavy Ranker run, as one YAML file (the original's `RecapConfig`):
/// `training`, `model`, `train_data`, `validation_data` (named datasets, file order),
/// `optimizer`, and `which_metrics`.
///
///     let config = try RecapConfig.load(from: "configs/recap_local.yaml")
///     for (name, tower) in config.model.tasks { … }
public struct RecapConfig: Codable, Equatable, Sendable {
  /// Defaults are `TrainingConfig.recapDefaults` (1,000,000 train steps).
  public var training: TrainingConfig
  public var model: RecapModelConfig
  public var trainData: RecapDatasetConfig
  /// Dataset name → dataset, evaluated in file order.
  public var validationData: ConfigMap<RecapDatasetConfig>
  public var optimizer: RecapOptimizerConfig
  /// Which metric set to compute (the original's free-form selector).
  public var whichMetrics: String?

  enum CodingKeys: String, CodingKey, CaseIterable {
    case training, model, trainData = "train_data", validationData = "validation_data", optimizer
    case whichMetrics = "which_metrics"
  }

  public init(training: TrainingConfig = .recapDefaults, model: RecapModelConfig, trainData: RecapDatasetConfig,
              validationData: ConfigMap<RecapDatasetConfig>, optimizer: RecapOptimizerConfig, whichMetrics: String? = nil) {
    self.training = training
    self.model = model
    self.trainData = trainData
    self.validationData = validationData
    self.optimizer = optimizer
    self.whichMetrics = whichMetrics
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    training = try c.decode(.training, default: .recapDefaults) { try TrainingConfig(from: $0, defaults: .recapDefaults) }
    model = try c.decode(.model)
    trainData = try c.decode(.trainData)
    validationData = try c.decode(.validationData)
    optimizer = try c.decode(.optimizer)
    whichMetrics = try c.decodeIfPresent(.whichMetrics)
  }

  /// Loads a YAML file with `${VAR}` substitution from `environment` (default: the
  /// process environment; an unset variable is an error unless `allowUnsetEnvironment`).
  /// Throws `ConfigError`.
  public static func load(from path: String, environment: [String: String]? = nil, allowUnsetEnvironment: Bool = false) throws -> RecapConfig {
    try YAMLLoader.load(RecapConfig.self, from: path, environment: environment, allowUnsetEnvironment: allowUnsetEnvironment)
  }

  /// Decodes YAML text; `file` names it in errors.
  public static func decode(yaml: String, file: String = "<string>", environment: [String: String]? = nil,
                            allowUnsetEnvironment: Bool = false) throws -> RecapConfig {
    try YAMLLoader.decode(RecapConfig.self, yaml: yaml, file: file, environment: environment, allowUnsetEnvironment: allowUnsetEnvironment)
  }
}
