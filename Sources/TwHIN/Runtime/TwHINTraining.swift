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
  /// Validation metrics after the last step (of the kept model, with early stopping).
  public let evaluation: TwHINEvaluation
  /// Both-side filtered ranks of `test_data`, when the config has it.
  public let test: LinkPredictionSummary?
  /// With early stopping: the step whose model was kept (best validation MRR).
  public let bestStep: Int?
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

  /// Trains (DESIGN §10) with `saveDir` locked (`SaveDirLock`): load the edges, resume
  /// from the newest checkpoint under `saveDir` or `resumeFrom` (else warm-start from
  /// `initial_checkpoint_dir`), then one step per batch:
  ///
  ///     epoch e visits the training edges in the order of a permutation drawn from
  ///     RandomGenerator(seed, stream: e), in batches of per_replica_batch_size
  ///     step = negatives + loss + backward (fused table updates) + translation update
  ///
  /// every `train_log_every_n` steps a log (loss, edges/s, learning rates, epoch, and the
  /// mean row norm of `tables_to_log`) to `metrics.jsonl` and TensorBoard
  /// (`tensorboard/train`), after checking every table and translation is finite (else an
  /// error naming the entry and step); a checkpoint every `checkpoint_every_n` steps and at the end
  /// (model, table and translation optimizer state, step, negative-sampling stream).
  /// Resuming replays the same epoch order, so a killed run continues exactly. Then the
  /// validation edges are evaluated (`evaluate`), and `test_data` when present.
  ///
  /// With `validation_data.eval_every_n_epochs` n, the validation edges' both-side
  /// filtered MRR is computed every n epochs (`kind: eval` in metrics.jsonl); with
  /// `early_stopping_patience` p, training stops after p such evaluations without a
  /// better MRR, and the best model (kept in memory) is restored and checkpointed at the
  /// last step. A resumed run starts its patience count afresh.
  @discardableResult
  public func train(onEvent: @escaping (TwHINEvent) -> Void = { _ in }) throws -> TwHINTrainingResult {
    let lock = try SaveDirLock(saveDir: saveDir)
    defer { lock.unlock() }
    let data = try loadData(onEvent: onEvent)
    let train = data.train.edges
    let model = try makeModel()
    let trainer = try makeTrainer(model)
    let t = config.training
    let manager = CheckpointManager(saveDir: saveDir, maxToKeep: t.checkpointMaxToKeep)
    let hash = configHash()
    if let resume = try manager.resume(from: resumeFrom) {
      let last = resume.checkpoint
      for url in resume.setAside { onEvent(.warning("set aside \(url.path): it is newer than the step resumed from")) }
      try model.loadStateDict(last.model, origin: last.directory.appendingPathComponent("model.safetensors").path)
      try trainer.loadOptimizerStateDict(last.optimizer, origin: last.directory.appendingPathComponent("optimizer.safetensors").path)
      if let words = last.state.rngStates["negatives"] { trainer.negativeRNG = try RandomGenerator(state: words) }
      if !last.state.configHash.isEmpty, last.state.configHash != hash { onEvent(.warning(RunConfigHash.changedWarning(last.directory))) }
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

    let testEdges = try loadTestData(onEvent: onEvent)
    let known = TwHINRun.knownEdges(train: train, heldOut: [data.validation.edges] + (testEdges.map { [$0] } ?? []))
    let every = config.validationData.evalEveryNEpochs, patience = config.validationData.earlyStoppingPatience
    var best: (step: Int, mrr: Double, state: [[Float]])? = nil
    var stale = 0, restored = false
    func periodic(_ step: Int) throws -> LinkPredictionSummary {
      let lp = try LinkPredictionEvaluator().evaluate(model, edges: data.validation.edges, known: known)
      try MetricsLog(url: saveDir.appendingPathComponent("metrics.jsonl")).append(kind: "eval", step: step, lp.dictionary)
      onEvent(.linkPrediction(step: step, split: "validation_data", lp))
      if lp.both.mrr > best?.mrr ?? -1 {
        best = (step, lp.both.mrr, patience == nil ? [] : TwHINRun.snapshot(model))
        stale = 0
      } else {
        stale += 1
      }
      return lp
    }
    var initial: TwHINEvaluation? = nil
    if evaluateAtStart && trainer.stepCount == 0 {
      initial = try evaluate(model, edges: data.validation.edges, known: known, step: 0, onEvent: onEvent)
    }

    let metrics = try MetricsLog(url: saveDir.appendingPathComponent("metrics.jsonl"))
    for (section, loaded) in [("train_data", data.train), ("validation_data", data.validation)] {
      for file in loaded.skipped.files { try metrics.appendSkipped(file, dataset: section, step: trainer.stepCount) }
    }
    let board = try TensorBoardWriter(directory: saveDir.appendingPathComponent("tensorboard/train"))
    defer { try? board.close() }
    let dtype: StateDType = config.model.embeddings.tables.first?.dataType == .fp16 ? .f16 : .f32
    /// A diverged model is neither logged as if it trained nor saved (one scan per step).
    var finiteAt = -1
    func checkFinite() throws {
      guard finiteAt != trainer.stepCount else { return }
      finiteAt = trainer.stepCount
      try trainer.checkFiniteState()
    }
    func checkpoint() throws {
      try checkFinite()
      let step = trainer.stepCount
      let state = CheckpointState(step: step, rngStates: ["negatives": trainer.negativeRNG.state],
                                  dataPosition: ["epoch": step / perEpoch, "batch_in_epoch": step % perEpoch], configHash: hash)
      let url = try manager.save(step: step, model: model.stateDict(), optimizer: trainer.optimizerStateDict(), state: state, modelDType: dtype)
      onEvent(.training(.checkpointed(step: step, at: url)))
    }

    let start = Date()
    var windowStart = Date(), windowEdges = 0, windowLoss = 0.0, windowSteps = 0
    var batches = EpochBatches(edges: train, batchSize: b, seed: seed)
    let tablesToLog = try (config.model.embeddings.tablesToLog ?? []).map { try schema.tableIndex(named: $0) }
    while trainer.stepCount < total {
      let batch = try batches.batch(step: trainer.stepCount, schema: schema)
      let rates = trainer.learningRates
      let r = try trainer.step(batch)
      windowLoss += Double(r.loss)
      windowEdges += batch.count
      windowSteps += 1
      let done = trainer.stepCount
      onEvent(.training(.progress(step: done, total: total)))
      if done % t.trainLogEveryN == 0 || done == total {
        try checkFinite()
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
      if let every, (done % perEpoch == 0 && (done / perEpoch) % every == 0) || done == total {
        let last = try periodic(done)
        if let patience, let b = best, stale >= patience || done == total {
          if b.step != done && b.mrr > last.both.mrr {
            try TwHINRun.restore(b.state, into: model)
            restored = true
          }
          if stale >= patience && done < total { onEvent(.earlyStopped(step: done, bestStep: b.step, bestMRR: b.mrr)) }
          if stale >= patience { break }
        }
      }
    }
    if restored || manager.steps().last?.step != trainer.stepCount { try checkpoint() }
    try board.close()
    try metrics.close()
    let seconds = Date().timeIntervalSince(start)
    onEvent(.training(.finished(step: trainer.stepCount, seconds: seconds)))
    let evaluation = try evaluate(model, edges: data.validation.edges, known: known, step: trainer.stepCount, onEvent: onEvent)
    var test: LinkPredictionSummary? = nil
    if let testEdges {
      test = try LinkPredictionEvaluator().evaluate(model, edges: testEdges, known: known)
      try MetricsLog(url: saveDir.appendingPathComponent("metrics.jsonl")).append(kind: "test", step: trainer.stepCount, test!.dictionary)
      onEvent(.linkPrediction(step: trainer.stepCount, split: "test_data", test!))
    }
    return TwHINTrainingResult(model: model, step: trainer.stepCount, initialEvaluation: initial, evaluation: evaluation, test: test,
                               bestStep: patience == nil ? nil : best?.step, seconds: seconds)
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

  /// The true edges that filter the ranks of the held-out lists (validation, test): all of
  /// their edges and every training edge whose (lhs, relation) — tail queries — or
  /// (relation, rhs) — head queries — appears among them (no other edge can matter).
  static func knownEdges(train: EdgeList, heldOut: [EdgeList]) -> KnownEdges {
    var known = KnownEdges(heldOut)
    var tails = Set<EdgeKey>(), heads = Set<EdgeKey>()
    for h in heldOut {
      for i in 0..<h.count {
        tails.insert(EdgeKey(h.lhs[i], h.relations[i], -1))
        heads.insert(EdgeKey(-1, h.relations[i], h.rhs[i]))
      }
    }
    for i in 0..<train.count where tails.contains(EdgeKey(train.lhs[i], train.relations[i], -1)) || heads.contains(EdgeKey(-1, train.relations[i], train.rhs[i])) {
      known.insert(lhs: train.lhs[i], relation: train.relations[i], rhs: train.rhs[i])
    }
    return known
  }

  /// Copies of every table and of the relation parameters (early stopping's best model).
  static func snapshot(_ model: TwHINModel) -> [[Float]] {
    model.tables.map { $0.weight.value.scalars } + [model.translations.value.scalars]
  }

  /// Writes a `snapshot` back into the model.
  static func restore(_ state: [[Float]], into model: TwHINModel) throws {
    for (k, table) in model.tables.enumerated() { try table.weight.assign(Tensor(shape: table.weight.shape, scalars: state[k])) }
    try model.translations.assign(Tensor(shape: model.translations.shape, scalars: state[model.tables.count]))
  }
}
