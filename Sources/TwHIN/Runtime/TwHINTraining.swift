import Foundation
import TMLNN
import TMLTensor
import TMLTrain

/// What `TwHINRun.train` did.
public struct TwHINTrainingResult {
  public let model: TwHINModel
  public let step: Int
  /// Validation metrics before the first step (fresh runs with `evaluateAtStart`).
  public let initialEvaluation: TwHINEvaluation?
  /// Validation metrics after the last step.
  public let evaluation: TwHINEvaluation
  public let seconds: Double
}

extension TwHINRun {
  /// Steps per epoch (the last batch of an epoch may be short) and the run's total:
  /// min(num_train_steps, num_epochs × batches per epoch).
  public func plan(trainEdges: Int) -> (batchesPerEpoch: Int, totalSteps: Int) {
    let b = config.trainData.perReplicaBatchSize
    let perEpoch = max(1, (trainEdges + b - 1) / b)
    let (product, overflow) = perEpoch.multipliedReportingOverflow(by: config.training.numEpochs)
    return (perEpoch, min(config.training.numTrainSteps, overflow ? Int.max : product))
  }

  /// Trains (DESIGN §10): load the edges, resume from the newest checkpoint under
  /// `saveDir` (else warm-start from `initial_checkpoint_dir`), then one step per batch:
  ///
  ///     epoch e visits the training edges in the order of a permutation drawn from
  ///     RandomGenerator(seed, stream: e), in batches of per_replica_batch_size
  ///     step = negatives + loss + backward (fused table updates) + translation update
  ///
  /// every `train_log_every_n` steps a log (loss, edges/s, learning rates, epoch, and the
  /// mean row norm of `tables_to_log`) to `metrics.jsonl` and TensorBoard
  /// (`tensorboard/train`); a checkpoint every `checkpoint_every_n` steps and at the end
  /// (model, table and translation optimizer state, step, negative-sampling stream).
  /// Resuming replays the same epoch order, so a killed run continues exactly. Then the
  /// validation edges are evaluated (`evaluate`).
  @discardableResult
  public func train(onEvent: @escaping (TwHINEvent) -> Void = { _ in }) throws -> TwHINTrainingResult {
    let data = try loadData(onEvent: onEvent)
    let train = data.train.edges
    let model = try makeModel()
    let trainer = try makeTrainer(model)
    let t = config.training
    let manager = CheckpointManager(saveDir: saveDir, maxToKeep: t.checkpointMaxToKeep)
    let hash = configHash()
    if let last = try manager.loadLatest() {
      try model.loadStateDict(last.model, origin: last.directory.appendingPathComponent("model.safetensors").path)
      try trainer.loadOptimizerStateDict(last.optimizer)
      if let words = last.state.rngStates["negatives"] { trainer.negativeRNG = try RandomGenerator(state: words) }
      if last.state.configHash != hash {
        onEvent(.warning("resuming from \(last.directory.path), which was written with a different config; the model shapes match, so training continues"))
      }
      onEvent(.training(.resumed(step: trainer.stepCount, from: last.directory)))
    } else if let initial = t.initialCheckpointDir {
      let url = URL(fileURLWithPath: initial)
      let dir = CheckpointManager(saveDir: url).steps().last?.url ?? url
      let ckpt = try CheckpointManager.load(dir)
      try model.loadStateDict(ckpt.model, origin: dir.path)
      onEvent(.training(.warmStarted(from: dir)))
    }
    let b = config.trainData.perReplicaBatchSize
    let (perEpoch, total) = plan(trainEdges: train.count)
    onEvent(.plan(epochs: config.training.numEpochs, batchesPerEpoch: perEpoch, totalSteps: total, startStep: trainer.stepCount))

    let known = TwHINRun.knownEdges(train: train, validation: data.validation.edges)
    var initial: TwHINEvaluation? = nil
    if evaluateAtStart && trainer.stepCount == 0 {
      initial = try evaluate(model, edges: data.validation.edges, known: known, step: 0, onEvent: onEvent)
    }

    let metrics = try MetricsLog(url: saveDir.appendingPathComponent("metrics.jsonl"))
    let board = try TensorBoardWriter(directory: saveDir.appendingPathComponent("tensorboard/train"))
    defer { try? board.close() }
    let dtype: StateDType = config.model.embeddings.tables.first?.dataType == .fp16 ? .f16 : .f32
    func checkpoint() throws {
      let step = trainer.stepCount
      let state = CheckpointState(step: step, rngStates: ["negatives": trainer.negativeRNG.state],
                                  dataPosition: ["epoch": step / perEpoch, "batch_in_epoch": step % perEpoch], configHash: hash)
      let url = try manager.save(step: step, model: model.stateDict(), optimizer: trainer.optimizerStateDict(), state: state, modelDType: dtype)
      onEvent(.training(.checkpointed(step: step, at: url)))
    }

    let start = Date()
    var windowStart = Date(), windowEdges = 0, windowLoss = 0.0, windowSteps = 0
    var order: [Int] = [], orderEpoch = -1
    let tablesToLog = try (config.model.embeddings.tablesToLog ?? []).map { try schema.tableIndex(named: $0) }
    while trainer.stepCount < total {
      let step = trainer.stepCount
      let epoch = step / perEpoch, k = step % perEpoch
      if epoch != orderEpoch {
        var rng = RandomGenerator(seed: seed, stream: 0x6570_0000 + UInt64(epoch))  // "ep" + epoch
        order = rng.permutation(train.count)
        orderEpoch = epoch
      }
      let slice = order[(k * b)..<min((k + 1) * b, train.count)]
      let batch = try EdgeBatch(lhs: slice.map { train.lhs[$0] }, relations: slice.map { train.relations[$0] },
                                rhs: slice.map { train.rhs[$0] }, schema: schema)
      let rates = trainer.learningRates
      let r = try trainer.step(batch)
      windowLoss += Double(r.loss)
      windowEdges += batch.count
      windowSteps += 1
      let done = trainer.stepCount
      onEvent(.training(.progress(step: done, total: total)))
      if done % t.trainLogEveryN == 0 || done == total {
        let seconds = Date().timeIntervalSince(windowStart)
        var values: [String: Double] = ["loss": windowLoss / Double(max(windowSteps, 1)),
                                        "examples_per_second": Double(windowEdges) / max(seconds, 1e-9),
                                        "epoch": Double(done) / Double(perEpoch)]
        for (name, lr) in rates { values["learning_rate/\(name)"] = Double(lr) }
        for k in tablesToLog { values["embedding_norm/\(schema.tables[k].name)"] = TwHINRun.meanRowNorm(model.tables[k].weight.value, dim: dim) }
        try metrics.append(kind: "train", step: done, values)
        try board.add(values, step: done)
        onEvent(.training(.logged(step: done, values: values)))
        windowStart = Date(); windowEdges = 0; windowLoss = 0; windowSteps = 0
      }
      if done % t.checkpointEveryN == 0 { try checkpoint() }
    }
    if manager.steps().last?.step != trainer.stepCount { try checkpoint() }
    try board.close()
    try metrics.close()
    let seconds = Date().timeIntervalSince(start)
    onEvent(.training(.finished(step: trainer.stepCount, seconds: seconds)))
    let evaluation = try evaluate(model, edges: data.validation.edges, known: known, step: trainer.stepCount, onEvent: onEvent)
    return TwHINTrainingResult(model: model, step: trainer.stepCount, initialEvaluation: initial, evaluation: evaluation, seconds: seconds)
  }

  /// Mean L2 norm of a table's rows.
  static func meanRowNorm(_ w: Tensor, dim: Int) -> Double {
    w.withUnsafeBufferPointer { p in
      let rows = p.count / max(dim, 1)
      var total = 0.0
      for r in 0..<rows {
        var s: Float = 0
        for j in 0..<dim { s += p[r * dim + j] * p[r * dim + j] }
        total += Double(s.squareRoot())
      }
      return rows > 0 ? total / Double(rows) : 0
    }
  }

  /// The true edges that filter the ranks of `validation`: the validation edges and every
  /// training edge whose (lhs, relation) appears among them (no other edge can matter).
  static func knownEdges(train: EdgeList, validation: EdgeList) -> KnownEdges {
    var known = KnownEdges([validation])
    var keys = Set<EdgeKey>()
    for i in 0..<validation.count { keys.insert(EdgeKey(validation.lhs[i], validation.relations[i], 0)) }
    for i in 0..<train.count where keys.contains(EdgeKey(train.lhs[i], train.relations[i], 0)) {
      known.insert(lhs: train.lhs[i], relation: train.relations[i], rhs: train.rhs[i])
    }
    return known
  }
}
