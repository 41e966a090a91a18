import Foundation
import TMLData
import TMLDistributed
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
  /// Records skipped for data errors so far, per file (`ignore_data_errors`); nil for a
  /// source that never skips.
  var skippedRecords: SkippedRecords? { get }
}

extension BatchSource {
  public var skippedRecords: SkippedRecords? { nil }
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
  /// Resume from this checkpoint (`step_<N>`, `N` or its path) instead of the newest
  /// (`--resume-from`; see `CheckpointManager.resume(from:)`).
  public var resumeFrom: String?

  public init(saveDir: URL, numTrainSteps: Int, checkpointEveryN: Int? = nil, checkpointMaxToKeep: Int? = nil,
              trainLogEveryN: Int = 100, gradientAccumulation: Int = 1, initialCheckpointDir: URL? = nil, configHash: String = "",
              resumeFrom: String? = nil) {
    self.saveDir = saveDir
    self.numTrainSteps = numTrainSteps
    self.checkpointEveryN = checkpointEveryN
    self.checkpointMaxToKeep = checkpointMaxToKeep
    self.trainLogEveryN = max(trainLogEveryN, 1)
    self.gradientAccumulation = max(gradientAccumulation, 1)
    self.initialCheckpointDir = initialCheckpointDir
    self.configHash = configHash
    self.resumeFrom = resumeFrom
  }
}

/// What the loop reports to its caller (the CLI prints it; the library never does).
public enum TrainingEvent {
  case resumed(step: Int, from: URL)
  case warmStarted(from: URL)
  case progress(step: Int, total: Int)
  case logged(step: Int, values: [String: Double])
  case checkpointed(step: Int, at: URL)
  /// More records of `file` were skipped for data errors (`ignore_data_errors`); sent at
  /// log steps with the file's count so far and its first error.
  case skippedRecords(step: Int, file: SkippedRecords.File)
  case finished(step: Int, seconds: Double)
  /// Something the user should know (a resume with another config, checkpoints set aside).
  case warning(String)
}

/// The training loop: resume from the newest checkpoint under `save_dir` (or the one
/// `resumeFrom` names; else warm-start from `initial_checkpoint_dir`) — model, optimizer,
/// the modules' random streams (dropout) and the data position — then for each step:
/// `gradient_accumulation` batches of forward + loss/k + backward, one optimizer step, and every
/// `train_log_every_n` steps a log line (loss, per-task scalars, examples/s, learning
/// rates, share of time waiting for data, records skipped for data errors) to
/// `metrics.jsonl` and TensorBoard, with a `skipped_records` line per file whose count
/// grew; a checkpoint every `checkpoint_every_n` steps and at the end. A parameter that is
/// NaN or ±Inf at a log step or checkpoint, or a non-finite loss, stops training with an
/// error naming the step (and the parameter).
///
/// With a `communicator` of N ranks (under `mpirun`) the loop is data-parallel
/// (`DataParallel`): each rank's source yields its share of each global batch, gradients
/// are averaged before every step, BatchNorm is synchronised, rank 0 resumes and the
/// others load the checkpoint it chose, logged values are over all ranks, and only rank 0
/// writes metrics, TensorBoard and checkpoints and reports events.
public final class Trainer<Task: TrainingTask> {
  public let task: Task
  public let optimizer: Optimizer
  public let options: TrainingOptions
  public var onEvent: (TrainingEvent) -> Void = { _ in }
  /// Extra random streams saved with checkpoints beside the model's own
  /// (`Module.randomStreams()`); restored on resume.
  public var rngStates: [String: [UInt64]] = [:]
  public private(set) var step = 0
  /// The ranks training together (one process by default).
  public var communicator: any Communicator = SingleProcessCommunicator()
  /// Seconds and bytes of the gradient all-reduce and BatchNorm synchronisation (all
  /// collectives of `communicator` during `run`).
  public var communicationStats: CommunicationStats { communicator.stats }
  var isLogger: Bool { communicator.rank == 0 }

  public init(task: Task, optimizer: Optimizer, options: TrainingOptions) {
    self.task = task
    self.optimizer = optimizer
    self.options = options
  }

  var checkpoints: CheckpointManager { CheckpointManager(saveDir: options.saveDir, maxToKeep: options.checkpointMaxToKeep) }

  /// Restores the newest checkpoint or `resumeFrom` (or warm-starts); returns the step to
  /// continue from. With several ranks, rank 0 chooses (and sets aside newer checkpoints)
  /// and the others load the checkpoint it chose (or warm-start from the same one).
  @discardableResult
  public func restore() throws -> Int {
    var chosen = ""
    // Row-sharded parameters read only this rank's rows of the checkpoint.
    let shards = task.module.rowShards
    if communicator.rank == 0 {
      if let resume = try checkpoints.resume(from: options.resumeFrom, rowShards: shards) {
        for url in resume.setAside { onEvent(.warning("set aside \(url.path): it is newer than the step resumed from")) }
        try apply(resume.checkpoint)
        chosen = "resume:" + resume.checkpoint.directory.path
        if !options.configHash.isEmpty, !resume.checkpoint.state.configHash.isEmpty, resume.checkpoint.state.configHash != options.configHash {
          onEvent(.warning(RunConfigHash.changedWarning(resume.checkpoint.directory)))
        }
        onEvent(.resumed(step: step, from: resume.checkpoint.directory))
      } else if let initial = options.initialCheckpointDir {
        let dir = CheckpointManager(saveDir: initial).steps().last?.url ?? initial
        let ckpt = try CheckpointManager.load(dir, rowShards: shards)
        try task.module.loadStateDict(ckpt.model, origin: dir.path)
        chosen = "warm:" + dir.path
        onEvent(.warmStarted(from: dir))
      }
    }
    guard communicator.isDistributed else { return step }
    let choice = String(decoding: try communicator.allGatherV(Array(chosen.utf8))[0], as: UTF8.self)
    guard communicator.rank != 0 else { return step }
    if choice.hasPrefix("resume:") {
      try apply(try CheckpointManager.load(URL(fileURLWithPath: String(choice.dropFirst(7))), rowShards: shards))
    } else if choice.hasPrefix("warm:") {
      // Replicated weights also come from rank 0's broadcast; sharded rows only from here.
      let dir = URL(fileURLWithPath: String(choice.dropFirst(5)))
      try task.module.loadStateDict(try CheckpointManager.load(dir, rowShards: shards).model, origin: dir.path)
    }
    return step
  }

  /// Loads model, optimizer, random streams and step from a checkpoint.
  private func apply(_ last: Checkpoint) throws {
    try task.module.loadStateDict(last.model, origin: last.directory.appendingPathComponent("model.safetensors").path)
    try optimizer.loadStateDict(last.optimizer, origin: last.directory.appendingPathComponent("optimizer.safetensors").path)
    try task.module.loadRandomStreams(last.state.rngStates, origin: last.directory.appendingPathComponent("state.json").path)
    try task.module.loadFusedOptimizerSteps(last.state.rngStates, origin: last.directory.appendingPathComponent("state.json").path)
    rngStates = last.state.rngStates.filter { !$0.key.hasPrefix("module/") && !$0.key.hasPrefix("fused/") }
    step = last.state.step
  }

  /// Saves checkpoint `step` (rank 0 alone; every rank when the model has row-sharded
  /// parameters, each writing its rows — `ShardedCheckpoint`).
  public func saveCheckpoint() throws {
    try checkFiniteState()
    let state = {
      let streams = self.rngStates.merging(self.task.module.randomStreams()) { _, module in module }
        .merging(self.task.module.fusedOptimizerSteps()) { _, fused in fused }
      return CheckpointState(step: self.step, rngStates: streams, dataPosition: ["train_batches": self.step * self.options.gradientAccumulation],
                             configHash: self.options.configHash)
    }
    if hasShardedParameters {
      let parts = ShardedCheckpoint.split(task.module)
      let saved: URL?
      do {
        saved = try ShardedCheckpoint.save(communicator: communicator, manager: checkpoints, step: step,
                                           replicated: (parts.replicated, optimizer.stateDict()), sharded: (parts.sharded, StateDict()),
                                           rows: parts.rows, state: state)
      } catch let e as DistributedError { throw TrainError(e.description) }
      if let saved { onEvent(.checkpointed(step: step, at: saved)) }
      return
    }
    guard isLogger else { return }
    let url = try checkpoints.save(step: step, model: task.module.stateDict(), optimizer: optimizer.stateDict(), state: state())
    onEvent(.checkpointed(step: step, at: url))
  }

  /// Whether some ranks hold only part of a parameter (then every rank saves).
  var hasShardedParameters: Bool { communicator.isDistributed && !task.module.rowShards.isEmpty }

  /// Throws when a parameter (or buffer) holds NaN or ±Inf after `step` optimizer steps:
  /// checked at every log step and before every checkpoint, so a diverged model is never
  /// logged as if it trained, nor saved. With row-sharded parameters the ranks agree (one
  /// rank's bad row stops them all).
  func checkFiniteState() throws {
    let bad = task.module.firstNonFiniteState()
    let message = bad.map { "step \(step): \($0) after the optimizer step; training stopped. Lower the learning rate (or its peak), check the data for extreme values, and resume from the last good checkpoint" }
    if hasShardedParameters {
      do { try communicator.agree(failed: message) } catch let e as DistributedError { throw TrainError(e.description) }
    }
    if let message { throw TrainError(message) }
  }

  /// When the loss fails because a parameter is no longer finite, an error naming it.
  func nonFiniteStateError(cause: String) -> TrainError? {
    guard let bad = task.module.firstNonFiniteState() else { return nil }
    return TrainError("step \(step): \(cause), because \(bad) (it became non-finite in an optimizer step at or before step \(step)); training stopped. Lower the learning rate (or its peak), check the data for extreme values, and resume from the last good checkpoint")
  }

  /// Trains until `num_train_steps` (or the data ends). Returns the final step.
  @discardableResult
  public func run<S: BatchSource>(_ source: inout S) throws -> Int where S.Batch == Task.Batch {
    let report = onEvent
    defer { onEvent = report }
    if !isLogger { onEvent = { _ in } }
    try restore()
    let parallel = DataParallel(communicator: communicator, module: task.module)
    try parallel.broadcastState()
    parallel.synchroniseBatchNorm()
    parallel.shareRandomStreams()
    communicator.stats.reset()
    if step > 0 { try source.skip(step * options.gradientAccumulation) }
    let metrics = isLogger ? try MetricsLog(url: options.saveDir.appendingPathComponent("metrics.jsonl")) : nil
    let board = isLogger ? try TensorBoardWriter(directory: options.saveDir.appendingPathComponent("tensorboard/train")) : nil
    defer { try? board?.close() }
    let start = Date()
    var windowStart = Date(), windowExamples = 0, windowLoss = 0.0, windowBatches = 0
    var windowLogs: [String: Double] = [:]
    var waitAtWindowStart = source.waitSeconds
    var reportedSkips: [String: Int] = [:]
    task.module.train()
    loop: while step < options.numTrainSteps {
      optimizer.zeroGrad()
      for _ in 0..<options.gradientAccumulation {
        let next = try source.next()
        // Ranks stop together when any rank's data ends (else the others would wait forever).
        if communicator.isDistributed, try communicator.allReduce(Int64(next == nil ? 1 : 0), .max) > 0 { break loop }
        guard let batch = next else { break loop }
        let (total, logs, examples): (Tensor, [String: Double], Int)
        do { (total, logs, examples) = try task.loss(batch) } catch {
          throw nonFiniteStateError(cause: "\(error)") ?? error
        }
        guard let value = total.item, value.isFinite else {
          let cause = "the loss is \(total.item.map { "\($0)" } ?? "not a scalar")"
          throw nonFiniteStateError(cause: cause)
            ?? TrainError("step \(step): \(cause); training stopped. Lower the learning rate or check the data for extreme values")
        }
        // 1/k for gradient accumulation, 1/N for N ranks (their gradients are summed).
        let factor = parallel.lossScale / Float(options.gradientAccumulation)
        let scaled = factor != 1 ? total * factor : total
        // One batch per step: the gradient all-reduce starts during backward (several ranks).
        if options.gradientAccumulation == 1 { try parallel.backwardSummingGradients(of: scaled) } else { try scaled.backward() }
        windowLoss += Double(value)
        windowBatches += 1
        windowExamples += examples
        for (k, v) in logs { windowLogs[k, default: 0] += v }
      }
      if options.gradientAccumulation > 1 { try parallel.sumGradients() }
      let rates = optimizer.currentLearningRates
      try optimizer.step()
      step += 1
      onEvent(.progress(step: step, total: options.numTrainSteps))
      if step % options.trainLogEveryN == 0 || step == options.numTrainSteps {
        try checkFiniteState()
        let seconds = Date().timeIntervalSince(windowStart)
        // Sums over the ranks: losses and batches (means of the rank means), examples, wait.
        let keys = windowLogs.keys.sorted()
        var sums = [windowLoss, Double(windowBatches), Double(windowExamples), source.waitSeconds - waitAtWindowStart] + keys.map { windowLogs[$0]! }
        try communicator.allReduce(&sums, .sum)
        let batches = max(sums[1], 1)
        var values: [String: Double] = ["loss": sums[0] / batches,
                                        "examples_per_second": sums[2] / max(seconds, 1e-9),
                                        "data_wait_fraction": sums[3] / Double(communicator.worldSize) / max(seconds, 1e-9)]
        for (i, k) in keys.enumerated() { values[k] = sums[4 + i] / batches }
        for (g, lr) in rates { values["learning_rate/\(g)"] = Double(lr) }
        // Every rank's count (each reads its own files); the same on every rank.
        if let skipped = try source.skippedRecords.map({ try $0.gathered(over: communicator) }) {
          values[MetricsLog.skippedRecordsKey] = Double(skipped.total)
          for file in skipped.files where reportedSkips[file.path] != file.count {
            reportedSkips[file.path] = file.count
            try metrics?.appendSkipped(file, dataset: "train", step: step)
            onEvent(.skippedRecords(step: step, file: file))
          }
        }
        try metrics?.append(kind: "train", step: step, values)
        try board?.add(values, step: step)
        onEvent(.logged(step: step, values: values))
        windowStart = Date(); windowExamples = 0; windowLoss = 0; windowBatches = 0; windowLogs = [:]
        waitAtWindowStart = source.waitSeconds
      }
      if let every = options.checkpointEveryN, every > 0, step % every == 0 { try saveCheckpoint() }
    }
    // Rank 0 knows whether the last step is saved; with sharded parameters every rank joins.
    var needFinal = [Int64(isLogger && checkpoints.steps().last?.step != step ? 1 : 0)]
    if hasShardedParameters { try communicator.broadcast(&needFinal, root: 0) }
    if needFinal[0] == 1 { try saveCheckpoint() }
    try board?.close()
    try metrics?.close()
    onEvent(.finished(step: step, seconds: Date().timeIntervalSince(start)))
    return step
  }
}
