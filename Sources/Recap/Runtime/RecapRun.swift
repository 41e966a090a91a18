import Foundation
import TMLData
import TMLDistributed
import TMLMetrics
import TMLNN
import TMLTensor
import TMLTrain

/// One Heavy Ranker run from a config file: builds the data pipelines, model and
/// optimizer, and trains, evaluates or predicts. The `tml recap` commands call this.
/// A config that cannot fit in memory is refused when the run is made (`memoryEstimate`).
///
///     let run = try RecapRun(configPath: "configs/recap/small.yaml")
///     try run.train { event in print(event) }
public final class RecapRun {
  public let config: RecapConfig
  public let configURL: URL
  public let trainData: RecapDataConfig
  public let schema: SegdenseSchema
  public let spec: MultiTaskRankingModel.Spec
  public var saveDir: URL
  public var seed: UInt64 = 0
  public var workerThreads = 1
  /// Resume from this checkpoint of the save dir (`step_<N>`, `N` or its path) instead of the newest.
  public var resumeFrom: String?
  /// The ranks of a data-parallel run (`mpirun -np N tml recap train`); one process by default.
  public var communicator: any Communicator = SingleProcessCommunicator()

  /// `allowUnsetEnvironment` leaves `${VAR}`s that are not set as written (the original's
  /// `safe_substitute`) instead of failing.
  public init(configPath: String, saveDir: String? = nil, steps: Int? = nil, allowUnsetEnvironment: Bool = false) throws {
    var config = try RecapConfig.load(from: configPath, allowUnsetEnvironment: allowUnsetEnvironment)
    if let steps { config.training.numTrainSteps = steps }
    self.config = config
    configURL = URL(fileURLWithPath: configPath)
    let directory = configURL.deletingLastPathComponent()
    trainData = try RecapConfigConversion.data(config.trainData, name: "train_data", configDirectory: directory)
    schema = try SegdenseSchema(contentsOf: URL(fileURLWithPath: trainData.segDenseSchema.schemaPath))
    spec = try RecapConfigConversion.modelSpec(config, data: trainData, schema: schema)
    self.saveDir = URL(fileURLWithPath: saveDir ?? config.training.saveDir)
    try memoryEstimate.check()
  }

  /// The memory the model, its training and evaluation need; `init` refuses a config whose
  /// estimate exceeds this machine's memory, naming the key that makes it so.
  /// Under mpirun the large_embeddings tables count with this rank's share of their rows.
  public var memoryEstimate: MemoryEstimate { MemoryEstimate(recap: config, spec: spec, ranks: Distributed.launchedWorldSize()) }

  /// The data configs of the validation datasets, in file order.
  public func validationData() throws -> [(String, RecapDataConfig)] {
    try config.validationData.map { name, d in
      (name, try RecapConfigConversion.data(d, name: "validation_data[\"\(name)\"]", configDirectory: configURL.deletingLastPathComponent()))
    }
  }

  public func makeModel() throws -> MultiTaskRankingModel { try MultiTaskRankingModel(spec, seed: seed) }

  /// A pipeline of `RecapBatch`es over `data`'s input files (epochs: nil repeats forever).
  /// With several ranks and a dataset `name`, this rank's share (`RecapDataSharding`);
  /// nil when the share has no files (evaluation with fewer files than ranks).
  public func pipeline(_ data: RecapDataConfig, epochs: Int?, shuffle: Bool) throws -> BatchPipeline<RecapBatch> {
    try pipeline(data, epochs: epochs, shuffle: shuffle, shardedAs: nil)!
  }

  func pipeline(_ data: RecapDataConfig, epochs: Int?, shuffle: Bool, shardedAs name: String?) throws -> BatchPipeline<RecapBatch>? {
    let schema = try SegdenseSchema(contentsOf: URL(fileURLWithPath: data.segDenseSchema.schemaPath))
    let builder = try RecapBatchBuilder(schema: schema, config: data, baseDirectory: configURL.deletingLastPathComponent())
    var shard = RecapDataSharding.Shard(files: try data.inputFiles(), batchSize: data.globalBatchSize)
    if let name {
      shard = try RecapDataSharding.shard(shard.files, batchSize: shard.batchSize, name: name, inputs: data.inputs,
                                          training: epochs == nil, communicator: communicator)
      if shard.files.isEmpty { return nil }
    }
    return try BatchPipeline(
      files: shard.files,
      options: .init(batchSize: shard.batchSize, shuffleBufferSize: shuffle ? data.examplesShuffleBufferSize : 1, seed: seed,
                     workerThreads: workerThreads, dropRemainder: shuffle, epochs: epochs, ignoreDataErrors: data.ignoreDataErrors)
    ) { records, skip in try builder.build(records, skippingBadRecords: skip) }
  }

  /// Trains for `training.num_train_steps` (resuming from the newest checkpoint, or
  /// `resumeFrom`), then evaluates every validation dataset (reporting `onEvalProgress`).
  /// Returns the evaluation results. The save dir is locked (`SaveDirLock`) for the whole run.
  @discardableResult
  public func train(onEvent: @escaping (TrainingEvent) -> Void, onEvalProgress: (WorkProgress) -> Void = { _ in },
                    onEval: (String, RecapEvaluator.Result) -> Void = { _, _ in }) throws -> [String: RecapEvaluator.Result] {
    let lock = communicator.rank == 0 ? try SaveDirLock(saveDir: saveDir) : nil
    defer { lock?.unlock() }
    // Under mpirun the large_embeddings tables are row-sharded over the ranks.
    let model = try MultiTaskRankingModel(spec, seed: seed, communicator: communicator)
    let task = RecapTrainingTask(model: model)
    let optimizer = try RecapConfigConversion.optimizer(config, model: model)
    let t = config.training
    let options = TrainingOptions(
      saveDir: saveDir, numTrainSteps: t.numTrainSteps, checkpointEveryN: t.checkpointEveryN, checkpointMaxToKeep: t.checkpointMaxToKeep,
      trainLogEveryN: t.trainLogEveryN, gradientAccumulation: t.gradientAccumulation ?? 1,
      initialCheckpointDir: t.initialCheckpointDir.map { URL(fileURLWithPath: $0) }, configHash: configHash(),
      resumeFrom: resumeFrom)
    let trainer = Trainer(task: task, optimizer: optimizer, options: options)
    trainer.onEvent = onEvent
    trainer.communicator = communicator
    var source = PipelineBatchSource(try pipeline(trainData, epochs: nil, shuffle: true, shardedAs: "train_data")!)
    try trainer.run(&source)
    return try evaluate(model: model, step: trainer.step, onProgress: onEvalProgress, onEval: onEval)
  }

  /// Evaluates `model` on every validation dataset for `num_eval_steps` batches each (all
  /// when negative), logging to `metrics.jsonl` and TensorBoard (`tensorboard/<dataset>`).
  /// With `ignore_data_errors` the eval line carries the records skipped
  /// (`data/skipped_records`), with a `skipped_records` line per file. `onProgress` gets each
  /// dataset's progress (`eval <dataset>`) in batches, or in input bytes when all the data is evaluated.
  /// With several ranks each evaluates its share of the files and the metrics cover every
  /// rank's predictions (`RecapEvaluator`); rank 0 writes the logs and reports.
  public func evaluate(model: MultiTaskRankingModel, step: Int, onProgress: (WorkProgress) -> Void = { _ in },
                       onEval: (String, RecapEvaluator.Result) -> Void) throws -> [String: RecapEvaluator.Result] {
    let task = RecapTrainingTask(model: model)
    let isLogger = communicator.rank == 0
    let log = isLogger ? try MetricsLog(url: saveDir.appendingPathComponent("metrics.jsonl")) : nil
    var results: [String: RecapEvaluator.Result] = [:]
    for (name, data) in try validationData() {
      var evaluator = RecapEvaluator(task: task, stratifiers: RecapConfigConversion.stratifiers(config), evaluationTasks: data.evaluationTasks)
      evaluator.communicator = communicator
      let pipe = try pipeline(data, epochs: 1, shuffle: false, shardedAs: "validation_data[\"\(name)\"]")
      let steps = config.training.numEvalSteps
      let cap = steps < 0 ? nil : steps
      var batches = 0
      func report(_ p: WorkProgress) { if isLogger { onProgress(p) } }
      var result = try evaluator.evaluate(maxSteps: cap, progress: {
        batches = $0
        if let pipe { report(RecapRun.progress("eval \(name)", of: pipe, cap: cap, batches: batches)) }
      }) { try pipe?.next() }
      if cap != batches, let pipe { report(RecapRun.progress("eval \(name)", of: pipe, cap: cap, batches: batches, finished: true)) }
      var values = result.metrics
      values["loss"] = result.loss
      values["examples"] = Double(result.examples)
      if data.ignoreDataErrors {
        // Over all ranks (a rank without files contributes none).
        let skipped = try (pipe?.skipped ?? SkippedRecords()).gathered(over: communicator)
        result.skippedRecords = skipped
        values[MetricsLog.skippedRecordsKey] = Double(skipped.total)
        for file in skipped.files { try log?.appendSkipped(file, dataset: name, step: step) }
      }
      results[name] = result
      guard isLogger else { continue }
      try log?.append(kind: "eval/\(name)", step: step, values)
      let board = try TensorBoardWriter(directory: saveDir.appendingPathComponent("tensorboard/\(name)"))
      try board.add(values, step: step)
      try board.close()
      onEval(name, result)
    }
    return results
  }

  /// The progress of a one-epoch pass over `pipe` after `batches` batches: in batches when
  /// capped at `cap`, else in input bytes read. Only the `finished` report has done == total.
  static func progress(_ label: String, of pipe: BatchPipeline<RecapBatch>, cap: Int?, batches: Int, finished: Bool = false) -> WorkProgress {
    if let cap { return WorkProgress(label, done: batches, total: finished ? batches : cap, unit: .batches) }
    let total = pipe.fileBytes
    return WorkProgress(label, done: finished ? total : max(0, min(pipe.bytesRead, total - 1)), total: total, unit: .bytes)
  }

  /// Loads the checkpoint in `directory` (a `step_<N>` directory or a save dir, newest step).
  /// The model is whole in this process (id tables too), so its memory is checked as one rank's.
  public func loadModel(checkpoint directory: URL) throws -> (MultiTaskRankingModel, Int) {
    try MemoryEstimate(recap: config, spec: spec, ranks: 1).check()
    let dir = CheckpointManager(saveDir: directory).steps().last?.url ?? directory
    let ckpt = try CheckpointManager.load(dir)
    let model = try makeModel()
    try model.loadStateDict(ckpt.model, origin: dir.appendingPathComponent("model.safetensors").path)
    model.eval()
    return (model, ckpt.state.step)
  }

  /// The config's hash saved with checkpoints (`RunConfigHash`: the config without its
  /// length, and the seed).
  public func configHash() -> String { RunConfigHash.of(config, training: \.training, seed: seed) }
}
