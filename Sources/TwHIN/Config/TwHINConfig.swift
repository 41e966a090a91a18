import Foundation
import TMLTrain

/// A whole TwHIN run in one YAML file — the original's `TwhinConfig`
/// (`projects/twhin/config.py`):
///
///     runtime:          RuntimeConfig   (optional; accepted, no effect on CPU)
///     training:         TrainingConfig  (optional; save_dir, num_train_steps, num_epochs, …)
///     model:            TwHINModelConfig (tables, relations, translation_optimizer)
///     train_data:       TwHINDataConfig
///     validation_data:  TwHINDataConfig
///     test_data:        TwHINDataConfig (optional, SwiftTML: evaluated once after training;
///                       its edges also filter the validation ranks)
///
/// Loading is strict: unknown keys, missing required keys, broken `one_of` groups and the
/// model's cross-checks (equal table dims, relations naming tables) are `ConfigError`s
/// with the key path. Data paths are only checked when a run reads them, so the
/// original's `gs://` configs load (and fail at training start with what to do).
///
///     let config = try TwHINConfig.load(from: "configs/twhin/planted.yaml")
///     config.model.embeddings.tables.map(\.name)   // ["user", "author", "tweet"]
public struct TwHINConfig: Codable, Equatable, Sendable {
  public var runtime: RuntimeConfig
  public var training: TrainingConfig
  public var model: TwHINModelConfig
  public var trainData: TwHINDataConfig
  public var validationData: TwHINDataConfig
  /// SwiftTML extension: held-out edges for the final numbers (e.g. a knowledge graph's test split).
  public var testData: TwHINDataConfig?

  enum CodingKeys: String, CodingKey, CaseIterable {
    case runtime, training, model, trainData = "train_data", validationData = "validation_data", testData = "test_data"
  }

  public init(runtime: RuntimeConfig = RuntimeConfig(), training: TrainingConfig = TrainingConfig(), model: TwHINModelConfig,
              trainData: TwHINDataConfig, validationData: TwHINDataConfig, testData: TwHINDataConfig? = nil) {
    self.runtime = runtime
    self.training = training
    self.model = model
    self.trainData = trainData
    self.validationData = validationData
    self.testData = testData
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    runtime = try c.decode(.runtime, default: RuntimeConfig())
    training = try c.decode(.training, default: TrainingConfig())
    model = try c.decode(.model)
    trainData = try c.decode(.trainData)
    validationData = try c.decode(.validationData)
    testData = try c.decodeIfPresent(.testData)
    for (key, section) in [("train_data", trainData as TwHINDataConfig?), ("test_data", testData)] {
      guard let section else { continue }
      for (field, set) in [("eval_every_n_epochs", section.evalEveryNEpochs != nil), ("early_stopping_patience", section.earlyStoppingPatience != nil)] where set {
        throw ConfigError(.invalidValue, path: c.codingPath.map(ConfigPathComponent.init) + [.field(key), .field(field)],
                          problem: "\(field) belongs to validation_data", fix: "Move it under validation_data: the validation edges decide when to stop.")
      }
    }
    if testData?.holdoutFraction != nil {
      throw ConfigError(.invalidValue, path: c.codingPath.map(ConfigPathComponent.init) + [.field("test_data"), .field("holdout_fraction")],
                        problem: "holdout_fraction belongs to validation_data", fix: "Remove it: test_data is evaluated as a whole.")
    }
    if trainData.holdoutFraction != nil {
      throw ConfigError(.invalidValue, path: c.codingPath.map(ConfigPathComponent.init) + [.field("train_data"), .field("holdout_fraction")],
                        problem: "holdout_fraction belongs to validation_data",
                        fix: "Move it under validation_data (with the same data_root as train_data) to evaluate on a held-out share of the training edges.")
    }
  }

  /// Loads `path` with `${VAR}` substitution (an unset variable is an error unless
  /// `allowUnsetEnvironment`) and strict decoding (`YAMLLoader`).
  public static func load(from path: String, environment: [String: String]? = nil, allowUnsetEnvironment: Bool = false) throws -> TwHINConfig {
    try YAMLLoader.load(TwHINConfig.self, from: path, environment: environment, allowUnsetEnvironment: allowUnsetEnvironment)
  }

  /// Decodes YAML text (tests, generated configs).
  public static func decode(yaml: String, file: String = "<string>", environment: [String: String]? = nil,
                            allowUnsetEnvironment: Bool = false) throws -> TwHINConfig {
    try YAMLLoader.decode(TwHINConfig.self, yaml: yaml, file: file, environment: environment, allowUnsetEnvironment: allowUnsetEnvironment)
  }
}
