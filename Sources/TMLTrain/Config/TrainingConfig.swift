import Foundation

/// `training:` — the run's length, checkpointing, logging and evaluation cadence
/// (the original's `TrainingConfig`, core and recap variants).
///
/// Defaults are the core variant's; the ranker's (`RecapConfig`) differ only in
/// `num_train_steps` (1,000,000), see `TrainingConfig.recapDefaults`.
///
///     training:
///       save_dir: ${HOME}/runs/recap
///       num_train_steps: 10
public struct TrainingConfig: Codable, Equatable, Sendable {
  /// Directory for checkpoints, logs and TensorBoard events.
  public var saveDir: String
  public var numTrainSteps: Int
  /// Warm-start from this checkpoint directory (`at_most_one_of: initialization`).
  public var initialCheckpointDir: String?
  public var checkpointEveryN: Int
  /// Keep at most this many checkpoints; `nil` keeps all.
  public var checkpointMaxToKeep: Int?
  public var trainLogEveryN: Int
  /// Evaluation steps per validation dataset; < 0 runs the whole dataset.
  public var numEvalSteps: Int
  public var evalLogEveryN: Int
  public var evalTimeoutInS: Double
  /// Replica steps over which gradients are accumulated; `nil` means none.
  public var gradientAccumulation: Int?
  public var numEpochs: Int

  enum CodingKeys: String, CodingKey, CaseIterable {
    case saveDir = "save_dir", numTrainSteps = "num_train_steps", initialCheckpointDir = "initial_checkpoint_dir"
    case checkpointEveryN = "checkpoint_every_n", checkpointMaxToKeep = "checkpoint_max_to_keep"
    case trainLogEveryN = "train_log_every_n", numEvalSteps = "num_eval_steps", evalLogEveryN = "eval_log_every_n"
    case evalTimeoutInS = "eval_timeout_in_s", gradientAccumulation = "gradient_accumulation", numEpochs = "num_epochs"
  }

  public init(saveDir: String = "/tmp/model", numTrainSteps: Int = 10_000, initialCheckpointDir: String? = nil,
              checkpointEveryN: Int = 1000, checkpointMaxToKeep: Int? = nil, trainLogEveryN: Int = 1000,
              numEvalSteps: Int = 16_384, evalLogEveryN: Int = 5000, evalTimeoutInS: Double = 3600,
              gradientAccumulation: Int? = nil, numEpochs: Int = 1) {
    self.saveDir = saveDir
    self.numTrainSteps = numTrainSteps
    self.initialCheckpointDir = initialCheckpointDir
    self.checkpointEveryN = checkpointEveryN
    self.checkpointMaxToKeep = checkpointMaxToKeep
    self.trainLogEveryN = trainLogEveryN
    self.numEvalSteps = numEvalSteps
    self.evalLogEveryN = evalLogEveryN
    self.evalTimeoutInS = evalTimeoutInS
    self.gradientAccumulation = gradientAccumulation
    self.numEpochs = numEpochs
  }

  /// The ranker's defaults (`projects/home/recap/config.py`): 1,000,000 train steps.
  public static let recapDefaults = TrainingConfig(numTrainSteps: 1_000_000)

  public init(from decoder: any Decoder) throws {
    try self.init(from: decoder, defaults: TrainingConfig())
  }

  /// Decodes with `defaults` for the keys that are absent or null.
  public init(from decoder: any Decoder, defaults d: TrainingConfig) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    try c.atMostOne(of: [.initialCheckpointDir])
    saveDir = try c.decode(.saveDir, default: d.saveDir)
    numTrainSteps = try c.decode(.numTrainSteps, default: d.numTrainSteps, .positive)
    initialCheckpointDir = try c.decodeIfPresent(.initialCheckpointDir) ?? d.initialCheckpointDir
    checkpointEveryN = try c.decode(.checkpointEveryN, default: d.checkpointEveryN, .positive)
    checkpointMaxToKeep = try c.decodeIfPresent(.checkpointMaxToKeep, .positive) ?? d.checkpointMaxToKeep
    trainLogEveryN = try c.decode(.trainLogEveryN, default: d.trainLogEveryN, .positive)
    numEvalSteps = try c.decode(.numEvalSteps, default: d.numEvalSteps)
    evalLogEveryN = try c.decode(.evalLogEveryN, default: d.evalLogEveryN, .positive)
    evalTimeoutInS = try c.decode(.evalTimeoutInS, default: d.evalTimeoutInS, .positive)
    gradientAccumulation = try c.decodeIfPresent(.gradientAccumulation) ?? d.gradientAccumulation
    numEpochs = try c.decode(.numEpochs, default: d.numEpochs, .positive)
  }
}
