import Foundation
import TMLDistributed
import TMLNN
import TMLTensor
import TMLTrain

extension TwHINRun {
  /// `train` for one rank of `mpirun -np N tml twhin train` (`ShardedTwHINTrainer`: tables
  /// sharded round-robin, each batch's edges split over the ranks). Every rank reads the
  /// config and the edges and draws the same epoch orders and negatives, so the run — loss
  /// curve and final embeddings — is the single-process run's up to float summation
  /// order, whatever N. Rank 0 logs (`metrics.jsonl`, TensorBoard) and reports events.
  /// Checkpoints are sharded (`CheckpointShardManifest`: each rank writes its rows, rank 0
  /// the replicated rest, the manifest and the checksums); `CheckpointManager.load`
  /// reassembles them, so a checkpoint of N ranks resumes on any M ranks or in one process,
  /// and `tml twhin eval|neighbors|export` read it as usual. After the last step
  /// rank 0 evaluates validation_data (and test_data) on the assembled model and returns
  /// the result; the other ranks return nil.
  ///
  /// Periodic validation (`validation_data.eval_every_n_epochs`) assembles the model from
  /// every rank's rows, rank 0 evaluates and decides, and every rank follows: with
  /// `early_stopping_patience` each rank keeps its rows of the best model and all restore
  /// them and stop together — the single-process run's behaviour.
  public func trainSharded(comm: any Communicator, onEvent: @escaping (TwHINEvent) -> Void = { _ in }) throws -> TwHINTrainingResult? {
    let root = comm.rank == 0
    let say: (TwHINEvent) -> Void = root ? onEvent : { _ in }
    let lock = root ? try SaveDirLock(saveDir: saveDir) : nil
    defer { lock?.unlock() }
    let data = try loadData(onEvent: say)
    let train = data.train.edges
    let full = try makeModel()
    let t = config.training
    let manager = CheckpointManager(saveDir: saveDir, maxToKeep: t.checkpointMaxToKeep)
    let hash = configHash()

    // Rank 0 picks the checkpoint (and sets newer ones aside); the others read the same one.
    var resumed: Checkpoint? = nil
    if root { resumed = try manager.resume(from: resumeFrom).map { r in
      for url in r.setAside { onEvent(.warning("set aside \(url.path): it is newer than the step resumed from")) }
      return r.checkpoint
    } }
    var chosen = [Int64(resumed?.state.step ?? -1)]
    try comm.broadcast(&chosen, root: 0)
    if !root, chosen[0] >= 0 {
      guard let dir = manager.steps().first(where: { $0.step == Int(chosen[0]) })?.url else {
        throw TwHINError("rank \(comm.rank): rank 0 resumes from step_\(chosen[0]) of \(saveDir.path), which this rank cannot see; every rank needs the same save_dir (a shared file system)")
      }
      resumed = try CheckpointManager.load(dir)
    }
    if let last = resumed {
      try full.loadStateDict(last.model, origin: last.directory.appendingPathComponent("model.safetensors").path)
    } else if let initial = t.initialCheckpointDir {
      let url = URL(fileURLWithPath: initial)
      let dir = CheckpointManager(saveDir: url).steps().last?.url ?? url
      try full.loadStateDict(CheckpointManager.load(dir).model, origin: dir.path)
      say(.training(.warmStarted(from: dir)))
    }
    let d = config.trainData
    let trainer = try ShardedTwHINTrainer(
      full: full, comm: comm, loss: TwHINLoss(inBatchNegatives: d.inBatchNegatives, globalNegatives: d.globalNegatives, sides: d.sides),
      tableOptimizers: config.tableOptimizers(), translationOptimizer: config.translationOptimizer(), seed: seed)
    if let last = resumed {
      try trainer.loadOptimizerStateDict(last.optimizer, origin: last.directory.appendingPathComponent("optimizer.safetensors").path)
      if let words = last.state.rngStates["negatives"] { trainer.negativeRNG = try RandomGenerator(state: words) }
      if !last.state.configHash.isEmpty, last.state.configHash != hash { say(.warning(RunConfigHash.changedWarning(last.directory))) }
      say(.training(.resumed(step: trainer.stepCount, from: last.directory)))
    }
    let b = d.perReplicaBatchSize
    let (perEpoch, total) = plan(trainEdges: train.count)
    say(.plan(epochs: t.numEpochs, batchesPerEpoch: perEpoch, totalSteps: total, startStep: trainer.stepCount))

    let metrics = root ? try MetricsLog(url: saveDir.appendingPathComponent("metrics.jsonl")) : nil
    let board = root ? try TensorBoardWriter(directory: saveDir.appendingPathComponent("tensorboard/train")) : nil
    defer { try? board?.close() }
    let dtype: StateDType = config.model.embeddings.tables.first?.dataType == .fp16 ? .f16 : .f32
    /// Collective on every rank: a failure anywhere stops all ranks with its message.
    func agree(_ failure: String?) throws {
      do { try comm.agree(failed: failure) } catch let e as DistributedError { throw TwHINError(e.description) }
    }
    /// Each rank writes its rows; rank 0 the replicated tensors, state.json and the rename.
    func checkpoint() throws {
      let step = trainer.stepCount
      try agree(trainer.model.firstNonFiniteState().map {
        "step \(step): \($0) after the optimizer step; training stopped. Lower the learning rates, check the edges, and resume from the last good checkpoint"
      })
      let parts = try trainer.checkpointParts()
      let saved: URL?
      do {
        saved = try ShardedCheckpoint.save(communicator: comm, manager: manager, step: step, replicated: parts.replicated,
                                           sharded: parts.sharded, rows: parts.rows, modelDType: dtype) {
          CheckpointState(step: step, rngStates: ["negatives": trainer.negativeRNG.state],
                          dataPosition: ["epoch": step / perEpoch, "batch_in_epoch": step % perEpoch], configHash: hash)
        }
      } catch let e as DistributedError { throw TwHINError(e.description) }
      if let saved { onEvent(.training(.checkpointed(step: step, at: saved))) }
    }

    let testEdges = root ? try loadTestData(onEvent: onEvent) : nil
    let known = root ? TwHINRun.knownEdges(train: train, heldOut: [data.validation.edges] + (testEdges.map { [$0] } ?? [])) : nil
    let every = config.validationData.evalEveryNEpochs, patience = config.validationData.earlyStoppingPatience
    var best: (step: Int, mrr: Double, rows: [[Float]])? = nil
    var stale = 0, restored = false
    /// Collective: rank 0 evaluates the assembled model and decides; returns whether to stop.
    func periodic(_ step: Int) throws -> Bool {
      let full = try trainer.assembledModel()
      var decision: [Double] = [0, 0, 0]  // improved, restore the best, stop
      if root, let known {
        let lp = try LinkPredictionEvaluator().evaluate(full, edges: data.validation.edges, known: known)
        try MetricsLog(url: saveDir.appendingPathComponent("metrics.jsonl")).append(kind: "eval", step: step, lp.dictionary)
        onEvent(.linkPrediction(step: step, split: "validation_data", lp))
        let improved = lp.both.mrr > best?.mrr ?? -1
        stale = improved ? 0 : stale + 1
        let bestMRR = improved ? lp.both.mrr : best?.mrr ?? -1, bestStep = improved ? step : best?.step ?? step
        if let patience, improved || best != nil, stale >= patience || step == total {
          decision[1] = bestStep != step && bestMRR > lp.both.mrr ? 1 : 0
          decision[2] = stale >= patience ? 1 : 0
          if stale >= patience && step < total { onEvent(.earlyStopped(step: step, bestStep: bestStep, bestMRR: bestMRR)) }
        }
        decision[0] = improved ? 1 : 0
        if improved { best = (step, lp.both.mrr, []) }
      }
      try comm.broadcast(&decision, root: 0)
      if decision[0] == 1 { best = (step, best?.mrr ?? 0, patience == nil ? [] : TwHINRun.snapshot(trainer.model)) }
      if decision[1] == 1, let b = best {
        try TwHINRun.restore(b.rows, into: trainer.model)
        restored = true
      }
      return decision[2] == 1
    }

    var initial: TwHINEvaluation? = nil
    if evaluateAtStart && trainer.stepCount == 0 {
      let full = try trainer.assembledModel()
      if root, let known { initial = try evaluate(full, edges: data.validation.edges, known: known, step: 0, onEvent: onEvent) }
    }

    let start = Date()
    var windowStart = Date(), windowEdges = 0, windowLoss = 0.0, windowSteps = 0
    var batches = EpochBatches(edges: train, batchSize: b, seed: seed)
    while trainer.stepCount < total {
      let batch = try batches.batch(step: trainer.stepCount, schema: schema)
      let rates = trainer.learningRates
      let r = try trainer.step(batch)
      windowLoss += Double(r.loss)
      windowEdges += batch.count
      windowSteps += 1
      let done = trainer.stepCount
      say(.training(.progress(step: done, total: total)))
      if done % t.trainLogEveryN == 0 || done == total {
        let seconds = Date().timeIntervalSince(windowStart)
        var values: [String: Double] = ["loss": windowLoss / Double(max(windowSteps, 1)),
                                        "examples_per_second": Double(windowEdges) / max(seconds, 1e-9),
                                        "epoch": Double(done) / Double(perEpoch),
                                        "ranks": Double(comm.worldSize)]
        for (name, lr) in rates { values["learning_rate/\(name)"] = Double(lr) }
        try metrics?.append(kind: "train", step: done, values)
        try board?.add(values, step: done)
        say(.training(.logged(step: done, values: values)))
        windowStart = Date(); windowEdges = 0; windowLoss = 0; windowSteps = 0
      }
      if done % t.checkpointEveryN == 0 { try checkpoint() }
      if let every, (done % perEpoch == 0 && (done / perEpoch) % every == 0) || done == total {
        if try periodic(done) { break }
      }
    }
    // Every rank joins the all-gathers of a checkpoint; rank 0 knows whether the last step is saved.
    var needFinal = [Int64(root && (restored || manager.steps().last?.step != trainer.stepCount) ? 1 : 0)]
    try comm.broadcast(&needFinal, root: 0)
    if needFinal[0] == 1 { try checkpoint() }
    let model = try trainer.assembledModel()
    try board?.close()
    try metrics?.close()
    let seconds = Date().timeIntervalSince(start)
    say(.training(.finished(step: trainer.stepCount, seconds: seconds)))
    guard root, let known else { return nil }
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
}
