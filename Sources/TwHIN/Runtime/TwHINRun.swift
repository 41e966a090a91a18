import Foundation
import TMLNN
import TMLTensor
import TMLTrain

/// What a TwHIN run reports while it works (the CLI prints it; the library never does).
public enum TwHINEvent {
  /// Files of a data section read so far.
  case loading(section: String, filesDone: Int, files: Int)
  /// A data section is in memory.
  case loaded(section: String, edges: LoadedEdges)
  /// The validation edges are a held-out share of the training edges (`holdout_fraction`).
  case heldOut(validation: Int, removedFromTraining: Int)
  /// Steps per epoch and in all, before the first step.
  case plan(epochs: Int, batchesPerEpoch: Int, totalSteps: Int, startStep: Int)
  /// The shared training-loop events (resume, progress, logs, checkpoints, finish).
  case training(TrainingEvent)
  /// Something the user should know (a resumed run with another config, …).
  case warning(String)
  /// How far an evaluation is (`eval in-batch`, then `eval all candidates`).
  case evaluating(WorkProgress)
  /// Filtered link-prediction metrics of the validation edges at a step.
  case evaluated(step: Int, TwHINEvaluation)
  /// Both-side filtered ranks of a section's edges (`validation_data` every
  /// `eval_every_n_epochs`, `test_data` after training).
  case linkPrediction(step: Int, split: String, LinkPredictionSummary)
  /// Early stopping: no better validation MRR for `early_stopping_patience` evaluations;
  /// the model of `bestStep` is kept.
  case earlyStopped(step: Int, bestStep: Int, bestMRR: Double)
}

/// One TwHIN run from a config file: loads the edges, builds the model, trains with
/// checkpoints and resume, evaluates, and answers export and neighbour queries. The
/// `tml twhin` commands call it. A config that cannot fit in memory is refused when the
/// run is made (`memoryEstimate`).
///
///     let run = try TwHINRun(configPath: "configs/twhin/planted.yaml")
///     let result = try run.train { event in print(event) }
///     result.evaluation?.allCandidates?.mrr
public final class TwHINRun {
  public let config: TwHINConfig
  public let schema: GraphSchema
  public var saveDir: URL
  /// Seeds the model initialisation, shuffling, negatives and the held-out split.
  public var seed: UInt64 = 0
  /// Evaluate the validation edges before the first step of a fresh run (the random-init baseline).
  public var evaluateAtStart = true
  /// Resume from this checkpoint of the save dir (`step_<N>`, `N` or its path) instead of the newest.
  public var resumeFrom: String?
  private var cachedVocabularies: [Vocabulary?]?

  public init(config: TwHINConfig, saveDir: URL? = nil) throws {
    if let k = config.training.gradientAccumulation, k > 1 {
      throw TwHINError("training.gradient_accumulation: \(k) is not supported for TwHIN (the tables' fused optimizers update during backward, as in the original); remove it or set 1")
    }
    self.config = config
    do { schema = try config.graphSchema() } catch let e as TwHINError { throw TwHINError("model: \(e.message)") }
    self.saveDir = saveDir ?? URL(fileURLWithPath: config.training.saveDir)
    do { try memoryEstimate.check() } catch let e as TrainError { throw TwHINError(e.message) }
  }

  /// The memory the tables, their optimizers, training and evaluation need; `init` refuses
  /// a config whose estimate exceeds this machine's memory, naming the key that makes it so.
  public var memoryEstimate: MemoryEstimate { MemoryEstimate(twhin: config) }

  /// Loads `configPath`; `epochs` and `steps` override `training.num_epochs` / `num_train_steps`;
  /// `allowUnsetEnvironment` leaves `${VAR}`s that are not set as written instead of failing.
  public convenience init(configPath: String, saveDir: String? = nil, epochs: Int? = nil, steps: Int? = nil,
                          allowUnsetEnvironment: Bool = false) throws {
    var config = try TwHINConfig.load(from: configPath, allowUnsetEnvironment: allowUnsetEnvironment)
    if let epochs {
      guard epochs > 0 else { throw TwHINError("--epochs must be ≥ 1, got \(epochs)") }
      config.training.numEpochs = epochs
    }
    if let steps {
      guard steps > 0 else { throw TwHINError("--steps must be ≥ 1, got \(steps)") }
      config.training.numTrainSteps = steps
    }
    try self.init(config: config, saveDir: saveDir.map { URL(fileURLWithPath: $0) })
  }

  public var dim: Int { config.embeddingDim }

  // MARK: Data

  /// Each table's vocabulary (nil where the table has none), loaded once.
  public func vocabularies() throws -> [Vocabulary?] {
    if let v = cachedVocabularies { return v }
    let v = try config.model.embeddings.tables.map { t in
      try t.vocab.map { try Vocabulary(path: $0, table: t.name, rows: t.numEmbeddings) }
    }
    cachedVocabularies = v
    return v
  }

  /// The training and validation edges. With `validation_data.holdout_fraction` f, the
  /// validation edges are a seeded random share f of what validation_data reads, and
  /// every training edge equal to one of them is removed from training.
  public func loadData(onEvent: (TwHINEvent) -> Void = { _ in }) throws -> (train: LoadedEdges, validation: LoadedEdges) {
    let loader = try EdgeLoader(schema: schema, vocabularies: try vocabularies())
    var train = try loader.load(config.trainData, what: "train_data") { onEvent(.loading(section: "train_data", filesDone: $0, files: $1)) }
    onEvent(.loaded(section: "train_data", edges: train))
    var validation = try loader.load(config.validationData, what: "validation_data") {
      onEvent(.loading(section: "validation_data", filesDone: $0, files: $1))
    }
    onEvent(.loaded(section: "validation_data", edges: validation))
    if let f = config.validationData.holdoutFraction {
      var rng = RandomGenerator(seed: seed, stream: 0x686F_6C64)  // "hold"
      let v = validation.edges
      var held = EdgeList()
      var keys = Set<EdgeKey>()
      for i in 0..<v.count where Double(rng.uniform()) < f {
        held.append(lhs: v.lhs[i], relation: v.relations[i], rhs: v.rhs[i])
        keys.insert(EdgeKey(v.lhs[i], v.relations[i], v.rhs[i]))
      }
      guard held.count > 0 else {
        throw TwHINError("validation_data.holdout_fraction \(f) of \(v.count) edges selects none; raise it or add edges")
      }
      let t = train.edges
      var kept = EdgeList()
      for i in 0..<t.count where !keys.contains(EdgeKey(t.lhs[i], t.relations[i], t.rhs[i])) {
        kept.append(lhs: t.lhs[i], relation: t.relations[i], rhs: t.rhs[i])
      }
      guard kept.count > 0 else { throw TwHINError("validation_data.holdout_fraction: no training edges remain after removing the held-out ones") }
      onEvent(.heldOut(validation: held.count, removedFromTraining: t.count - kept.count))
      train.edges = kept
      validation.edges = held
    }
    return (train, validation)
  }

  /// The `test_data` edges, or nil when the config has none.
  public func loadTestData(onEvent: (TwHINEvent) -> Void = { _ in }) throws -> EdgeList? {
    guard let section = config.testData else { return nil }
    let loader = try EdgeLoader(schema: schema, vocabularies: try vocabularies())
    let test = try loader.load(section, what: "test_data") { onEvent(.loading(section: "test_data", filesDone: $0, files: $1)) }
    onEvent(.loaded(section: "test_data", edges: test))
    return test.edges
  }

  // MARK: Model and optimizers

  /// A freshly initialised model: tables as torchrec (U(±√(1/N))), translations U(0, 1)
  /// as the original; a table with `pretrained` starts from its safetensors rows.
  public func makeModel() throws -> TwHINModel {
    let model = try TwHINModel(schema: schema, dim: dim, embeddingInit: .torchrecUniform,
                               translationInit: .uniform(low: 0, high: 1), seed: seed)
    for (k, t) in config.model.embeddings.tables.enumerated() {
      guard let p = t.pretrained else { continue }
      try loadPretrained(p, into: model.tables[k].weight, table: t)
    }
    return model
  }

  private func loadPretrained(_ p: TwHINEmbeddingSnapshot, into weight: Parameter, table t: TwHINTableConfig) throws {
    let path = p.embeddingSnapshotURI
    let what = "model.embeddings.tables[\(t.name)].pretrained"
    guard path.hasSuffix(".safetensors") else {
      throw TwHINError("\(what): \(path) is not a .safetensors file; torchsnapshot directories cannot be read — save the rows with safetensors (tml twhin export writes <table>.safetensors)")
    }
    let file: SafetensorsFile
    do { file = try SafetensorsFile(contentsOf: URL(fileURLWithPath: path)) } catch { throw TwHINError("\(what): \(error)") }
    let name = file.names.contains(p.embName) ? p.embName : (file.names.contains("weight") ? "weight" : p.embName)
    guard file.names.contains(name) else {
      throw TwHINError("\(what): \(path) has no tensor '\(p.embName)' (it has \(file.names.joined(separator: ", "))); set emb_name to one of them")
    }
    let tensor = try file.tensor(name)
    guard tensor.shape == [t.numEmbeddings, t.embeddingDim] else {
      throw TwHINError("\(what): tensor '\(name)' in \(path) has shape \(tensor.shape) but the table is [\(t.numEmbeddings), \(t.embeddingDim)]")
    }
    if let bad = NonFiniteValue.first(in: tensor, name: name, kind: .parameter) {
      throw TwHINError("\(what): \(path): \(bad); rows with NaN or infinite values poison every score they touch. Re-export the embeddings from a run that did not diverge")
    }
    try weight.assign(tensor)
  }

  /// A trainer with the config's table and translation optimizers and in-batch / global negatives.
  public func makeTrainer(_ model: TwHINModel) throws -> TwHINTrainer {
    let d = config.trainData
    return try TwHINTrainer(model: model, loss: TwHINLoss(inBatchNegatives: d.inBatchNegatives, globalNegatives: d.globalNegatives, sides: d.sides),
                            tableOptimizers: config.tableOptimizers(), translationOptimizer: config.translationOptimizer(),
                            seed: seed)
  }

  /// The config's hash saved with checkpoints (`RunConfigHash`: the config without its
  /// length, and the seed).
  public func configHash() -> String { RunConfigHash.of(config, training: \.training, seed: seed) }
}

/// An edge as a hashable key.
struct EdgeKey: Hashable {
  let lhs: Int, relation: Int, rhs: Int
  init(_ lhs: Int, _ relation: Int, _ rhs: Int) {
    self.lhs = lhs
    self.relation = relation
    self.rhs = rhs
  }
}
