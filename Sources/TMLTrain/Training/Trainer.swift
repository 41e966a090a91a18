import Foundation
import TMLNN
import TMLTensor

/// A model and its loss, as the training loop sees it.
public protocol TrainingTask: AnyObject {
  associatedtype Batch
  /// The model whose parameters and buffers are checkpointed.
  var module: any Module { get }
  /// Forward pass and loss for one batch: the differentiable total, scalars to log
  /// (e.g. per-task losses) and the number of examples.
  func loss(_ batch: Batch) throws -> (total: Tensor, logs: [String: Double], examples: Int)
}

/// Where training batches come from; `skip` fast-forwards after a resume.
public protocol BatchSource {
  associatedtype Batch
  mutating func next() throws -> Batch?
  /// Discards `batches` batches (resuming at a checkpoint's data position).
  mutating func skip(_ batches: Int) throws
  /// Seconds spent waiting for data so far.
  var waitSeconds: Double { get }
}

/// The training loop's settings (the original's `training:` section, the keys it uses).
public struct TrainingOptions: Sendable {
  public var saveDir: URL
  public var numTrainSteps: Int
  public var checkpointEveryN: Int?
  public var checkpointMaxToKeep: Int?
  public var trainLogEveryN: Int
  public var gradientAccumulation: Int
  public var initialCheckpointDir: URL?
  public var configHash: String

  public init(saveDir: URL, numTrainSteps: Int, checkpointEveryN: Int? = nil, checkpointMaxToKeep: Int? = nil,
              trainLogEveryN: Int = 100, gradientAccumulation: Int = 1, initialCheckpointDir: URL? = nil, configHash: String = "") {
    self.saveDir = saveDir
    self.numTrainSteps = numTrainSteps
    self.checkpointEveryN = checkpointEveryN
    self.checkpointMaxToKeep = checkpointMaxToKeep
    self.trainLogEveryN = max(trainLogEveryN, 1)
    self.gradientAccumulation = max(gradientAccumulation, 1)
    self.initialCheckpointDir = initialCheckpointDir
    self.configHash = configHash
  }
}

/// What the loop reports to its caller (the CLI prints it; the library never does).
public enum TrainingEvent {
  case resumed(step: Int, from: URL)
  case warmStarted(from: URL)
  case progress(step: Int, total: Int)
  case logged(step: Int, values: [String: Double])
  case checkpointed(step: Int, at: URL)
  case finished(step: Int, seconds: Double)
}

/// The training loop: resume from the newest checkpoint under `save_dir` (else warm-start
/// from `initial_checkpoint_dir`), then for each step: `gradient_accumulation` batches
/// of forward + loss/k + backward, one optimizer step, and every
/// `train_log_every_n` steps a log line (loss, per-task scalars, examples/s, learning
/// rates, share of time waiting for data) to `metrics.jsonl` and TensorBoard; a
/// checkpoint every `checkpoint_every_n` steps and at the end.
public final class Trainer<Task: TrainingTask> {
  public let task: Task
  public let optimizer: Optimizer
  public let options: TrainingOptions
  public var onEvent: (TrainingEvent) -> Void = { _ in }
  /// Extra state saved with checkpoints (random streams); restored on resume.
  public var rngStates: [String: [UInt64]] = [:]
  public private(set) var step = 0

  public init(task: Task, optimizer: Optimizer, options: TrainingOptions) {
    self.task = task
    self.optimizer = optimizer
    self.options = options
  }

  var checkpoints: CheckpointManager { CheckpointManager(saveDir: options.saveDir, maxToKeep: options.checkpointMaxToKeep) }

  /// Restores the newest checkpoint (or warm-starts); returns the step to continue from.
  @discardableResult
  public func restore() throws -> Int {
    if let last = try checkpoints.loadLatest() {
      try task.module.loadStateDict(last.model, origin: last.directory.appendingPathComponent("model.safetensors").path)
      try optimizer.loadStateDict(last.optimizer, origin: last.directory.appendingPathComponent("optimizer.safetensors").path)
      rngStates = last.state.rngStates
      step = last.state.step
      onEvent(.resumed(step: step, from: last.directory))
    } else if let initial = options.initialCheckpointDir {
      let dir = (try? CheckpointManager(saveDir: initial).steps().last?.url) ?? initial
      let ckpt = try CheckpointManager.load(dir)
      try task.module.loadStateDict(ckpt.model, origin: dir.path)
      onEvent(.warmStarted(from: dir))
    }
    return step
  }

  public func saveCheckpoint() throws {
    let state = CheckpointState(step: step, rngStates: rngStates, dataPosition: ["train_batches": step * options.gradientAccumulation],
                                configHash: options.configHash)
    let url = try checkpoints.save(step: step, model: task.module.stateDict(), optimizer: optimizer.stateDict(), state: state)
    onEvent(.checkpointed(step: step, at: url))
  }

  /// Trains until `num_train_steps` (or the data ends). Returns the final step.
  @discardableResult
  public func run<S: BatchSource>(_ source: inout S) throws -> Int where S.Batch == Task.Batch {
    try restore()
    if step > 0 { try source.skip(step * options.gradientAccumulation) }
    let metrics = try MetricsLog(url: options.saveDir.appendingPathComponent("metrics.jsonl"))
    let board = try TensorBoardWriter(directory: options.saveDir.appendingPathComponent("tensorboard/train"))
    defer { try? board.close() }
    let start = Date()
    var windowStart = Date(), windowExamples = 0, windowLoss = 0.0, windowBatches = 0
    var windowLogs: [String: Double] = [:]
    var waitAtWindowStart = source.waitSeconds
    task.module.train()
    loop: while step < options.numTrainSteps {
      optimizer.zeroGrad()
      for _ in 0..<options.gradientAccumulation {
        guard let batch = try source.next() else { break loop }
        let (total, logs, examples) = try task.loss(batch)
        guard let value = total.item, value.isFinite else {
          throw TrainError("step \(step): the loss is \(total.item.map { "\($0)" } ?? "not a scalar"); training stopped. Lower the learning rate or check the data for extreme values")
        }
        let scaled = options.gradientAccumulation > 1 ? total * (1 / Float(options.gradientAccumulation)) : total
        try scaled.backward()
        windowLoss += Double(value)
        windowBatches += 1
        windowExamples += examples
        for (k, v) in logs { windowLogs[k, default: 0] += v }
      }
      let rates = optimizer.currentLearningRates
      try optimizer.step()
      step += 1
      onEvent(.progress(step: step, total: options.numTrainSteps))
      if step % options.trainLogEveryN == 0 || step == options.numTrainSteps {
        let seconds = Date().timeIntervalSince(windowStart)
        var values: [String: Double] = ["loss": windowLoss / Double(max(windowBatches, 1)),
                                        "examples_per_second": Double(windowExamples) / max(seconds, 1e-9),
                                        "data_wait_fraction": (source.waitSeconds - waitAtWindowStart) / max(seconds, 1e-9)]
        for (k, v) in windowLogs { values[k] = v / Double(max(windowBatches, 1)) }
        for (g, lr) in rates { values["learning_rate/\(g)"] = Double(lr) }
        try metrics.append(kind: "train", step: step, values)
        try board.add(values, step: step)
        onEvent(.logged(step: step, values: values))
        windowStart = Date(); windowExamples = 0; windowLoss = 0; windowBatches = 0; windowLogs = [:]
        waitAtWindowStart = source.waitSeconds
      }
      if let every = options.checkpointEveryN, every > 0, step % every == 0 { try saveCheckpoint() }
    }
    if checkpoints.steps().last?.step != step { try saveCheckpoint() }
    try board.close()
    try metrics.close()
    onEvent(.finished(step: step, seconds: Date().timeIntervalSince(start)))
    return step
  }
}
