import TMLNN
import TMLTensor

/// What one training step did.
public struct TwHINStepResult: Equatable, Sendable {
  /// The step's index (counted from 0).
  public var step: Int
  public var loss: Float
  public var positives: Int
  public var negatives: Int
  /// Learning rate used by each table (by name) and by the translations (`translations`).
  public var learningRates: [String: Float]
}

/// Trains a `TwHINModel`: one step is
///
///     negatives ← sampler(batch, rng)                 (seeded stream owned by the trainer)
///     L         ← TwHINLoss(model, batch, negatives)
///     backward(L):  each table's rows updated in place by its fused optimizer
///                   (lr = schedule(step)); translations' dense gradient accumulated
///     translation optimizer step (lr = schedule(step)); zero the translations' grad
///
/// so the dense gradient of a table is never built. The loss and backward run as the
/// explicit kernels of `TwHINFusedStep` (`useFusedKernels`, the default; several times
/// faster than the tape) or through `TwHINLoss` and autograd. Checkpointable state: the model's
/// state dict, `optimizerStateDict()` (table accumulators `<table param>.<state>`, the
/// translation optimizer's `all_trans_embs.<state>`), `step` and `negativeRNG.state`.
///
///     let trainer = try TwHINTrainer(model: model, loss: loss,
///                                    tableOptimizers: [.sgd(.constant(0.01)), .sgd(.constant(0.005))],
///                                    translationOptimizer: .sgd(.constant(0.05)), seed: 1)
///     let r = try trainer.step(batch)   // r.loss
public final class TwHINTrainer {
  public let model: TwHINModel
  public let loss: TwHINLoss
  /// Fused optimizer of each table, in schema order.
  public let tableOptimizers: [any SparseRowOptimizer]
  public let translationOptimizer: Optimizer
  /// The stream negatives are drawn from.
  public var negativeRNG: RandomGenerator
  /// Steps taken so far (the next step's index).
  public private(set) var stepCount = 0
  /// Run steps through the explicit kernels of `TwHINFusedStep` (default) rather than
  /// `TwHINLoss` and the autograd tape; both compute the same update.
  public var useFusedKernels = true
  private let fused: TwHINFusedStep
  private var translationGrad: [Float] = []

  /// `tableOptimizers` has one spec per table of `model.schema`, in order.
  public init(
    model: TwHINModel, loss: TwHINLoss, tableOptimizers: [TableOptimizerSpec],
    translationOptimizer: TranslationOptimizerSpec, seed: UInt64 = 0
  ) throws {
    let names = model.schema.tables.map(\.name)
    guard tableOptimizers.count == names.count else {
      throw TwHINError("TwHINTrainer: \(tableOptimizers.count) table optimizers given for \(names.count) tables (\(names.joined(separator: ", "))); give one per table")
    }
    self.model = model
    self.loss = loss
    self.tableOptimizers = try zip(names, tableOptimizers).map { try $1.make(table: $0) }
    self.translationOptimizer = try translationOptimizer.make(translations: model.translations)
    negativeRNG = RandomGenerator(seed: seed, stream: 0x7477_6869_6E)  // "twhin"
    fused = TwHINFusedStep(tables: names.count, dim: model.dim)
    for (k, opt) in self.tableOptimizers.enumerated() { model.fuse(table: k, opt) }
  }

  /// One optimisation step on `batch` with freshly sampled negatives.
  @discardableResult
  public func step(_ batch: EdgeBatch) throws -> TwHINStepResult {
    try loss.checkBatch(model, batch)
    let negatives = loss.sampler.sample(batch, schema: model.schema, using: &negativeRNG)
    return try step(batch, negatives: negatives)
  }

  /// One optimisation step with the given negatives (tests, replay).
  @discardableResult
  public func step(_ batch: EdgeBatch, negatives: [RelationNegatives]) throws -> TwHINStepResult {
    model.train()
    let rates = learningRates
    for opt in tableOptimizers { opt.iteration = stepCount }
    model.translations.zeroGrad()
    let value: Float, negativeCount: Int
    if useFusedKernels {
      try loss.checkBatch(model, batch)
      let byRelation = try loss.arrange(negatives, batch, model.schema)
      let r: TwHINFusedStep.Result
      do {
        r = try fused.run(model, batch, byRelation, optimizers: tableOptimizers, translationGrad: &translationGrad)
      } catch let e as TwHINError {
        throw TwHINError(e.message.replacingOccurrences(of: "TwHIN step:", with: "TwHIN step \(stepCount):") + nonFiniteStateNote())
      }
      (value, negativeCount) = (r.loss, r.negatives)
      // Hand ∂ℓ/∂t to the translations' leaf: ∂/∂t Σ t ⊙ G = G.
      try (model.translations.value * Tensor(shape: model.translations.shape, scalars: translationGrad)).sum().backward()
    } else {
      let out = try loss(model, batch, negatives: negatives)
      guard let v = out.loss.item, v.isFinite else {
        throw TwHINError("TwHIN step \(stepCount): the loss is \(out.loss.item.map { "\($0)" } ?? "missing"); lower the learning rates or check the inputs" + nonFiniteStateNote())
      }
      try out.loss.backward()
      (value, negativeCount) = (v, out.negativeCount)
    }
    try translationOptimizer.step()
    model.translations.zeroGrad()
    let result = TwHINStepResult(step: stepCount, loss: value, positives: batch.count, negatives: negativeCount, learningRates: rates)
    stepCount += 1
    return result
  }

  /// Throws when a table or the translations hold NaN or ±Inf after `stepCount` steps,
  /// naming the entry, the element and the step (one pass over the tables).
  public func checkFiniteState() throws {
    guard let bad = model.firstNonFiniteState() else { return }
    throw TwHINError("step \(stepCount): \(bad) after the optimizer step; training stopped. Lower the learning rates (or their peaks), check the edges, and resume from the last good checkpoint")
  }

  /// Why a step failed when the model itself is no longer finite: " (<entry> …)", else "".
  private func nonFiniteStateNote() -> String {
    model.firstNonFiniteState().map { " (\($0); it became non-finite in an optimizer step at or before step \(stepCount))" } ?? ""
  }

  /// One pass over `edges`, shuffled by `rng`, in batches of `batchSize`; returns the
  /// mean loss over batches.
  public func trainEpoch(_ edges: EdgeList, batchSize: Int, shuffleWith rng: inout RandomGenerator) throws -> Float {
    try trainEpoch(edges.shuffled(using: &rng).batches(of: batchSize, schema: model.schema))
  }

  /// One step per batch, in order; returns the mean loss over batches.
  public func trainEpoch(_ batches: [EdgeBatch]) throws -> Float {
    guard !batches.isEmpty else { throw TwHINError("TwHINTrainer.trainEpoch: no edges to train on") }
    var total: Double = 0
    for b in batches { total += Double(try step(b).loss) }
    return Float(total / Double(batches.count))
  }

  /// The learning rate of each table and of the translations at the next step.
  public var learningRates: [String: Float] {
    var d: [String: Float] = [:]
    for (t, opt) in zip(model.schema.tables, tableOptimizers) { d[t.name] = opt.schedule.rate(at: stepCount) }
    d["translations"] = translationOptimizer.groups[0].schedule.rate(at: translationOptimizer.iteration)
    return d
  }

  /// Optimizer state for checkpoints: `large_embeddings.ebc.embedding_bags.<table>.weight.<state>`
  /// for the tables, the translation optimizer's entries, and `__trainer__.step`.
  public func optimizerStateDict() -> StateDict {
    var d = StateDict()
    for (t, opt) in zip(model.schema.tables, tableOptimizers) {
      for (k, v) in opt.state.sorted(by: { $0.key < $1.key }) { d["\(TwHINTrainer.tablePrefix(t.name)).\(k)"] = .init(v) }
    }
    for (k, e) in translationOptimizer.stateDict().entries { d[k] = e }
    d["__trainer__.step"] = .init(Tensor(scalar: Float(stepCount)), dtype: .i64)
    return d
  }

  /// Restores state saved by `optimizerStateDict()` (read from `origin`); unknown entries
  /// and NaN or ±Inf values are an error.
  public func loadOptimizerStateDict(_ d: StateDict, origin: String = "TwHIN optimizer state") throws {
    var translation = StateDict()
    var tableStates = [[String: Tensor]](repeating: [:], count: tableOptimizers.count)
    for (key, e) in d.entries {
      if key == "__trainer__.step" { stepCount = Int(e.tensor.item ?? 0); continue }
      if let bad = NonFiniteValue.first(in: e.tensor, name: key, kind: .state) {
        throw TwHINError("\(origin): \(bad); the optimizer would turn the rows it updates into NaN. The file is damaged or was saved by a run that diverged: resume from an earlier checkpoint")
      }
      if let k = model.schema.tables.firstIndex(where: { key.hasPrefix(TwHINTrainer.tablePrefix($0.name) + ".") }) {
        let name = String(key.dropFirst(TwHINTrainer.tablePrefix(model.schema.tables[k].name).count + 1))
        tableStates[k][name] = e.tensor
      } else {
        translation[key] = e
      }
    }
    for (k, s) in tableStates.enumerated() where !s.isEmpty {
      let rows = model.schema.tables[k].numEmbeddings
      for (name, t) in s where t.shape.first != rows {
        throw TwHINError("TwHINTrainer: optimizer state \(name) of table \"\(model.schema.tables[k].name)\" has shape \(describe(shape: t.shape)) but the table has \(rows) rows; was it saved for another config?")
      }
      tableOptimizers[k].state = s
    }
    try translationOptimizer.loadStateDict(translation, origin: origin)
  }

  static func tablePrefix(_ table: String) -> String { "large_embeddings.ebc.embedding_bags.\(table).weight" }
}
