import TMLDistributed
import TMLNN
import TMLTensor

/// `TwHINTrainer` for one rank of an MPI job (`mpirun -np N tml twhin train`), model-parallel:
///
///     tables        row-wise sharded, round-robin (`RowSharding`: row g on rank g mod N)
///     batch         the same global batch on every rank; rank k computes the edges at
///                   batch positions p with p mod N = k
///     negatives     drawn on every rank from the same seeded stream over the global tables,
///                   so they, like the batch, do not depend on N
///     rows          fetched from their owners and row gradients sent back with all-to-alls
///                   (`ShardedRowStore`); each owner sums the parts and runs the table's
///                   optimizer on its rows
///     translations  replicated; ∂t and the loss are all-reduced (sums), then every rank
///                   takes the same translation-optimizer step
///
/// The result equals the single-process `TwHINTrainer` on the same batches and seed up to
/// float summation order (the parts of a row's gradient are added per rank, then across
/// ranks). Tested with 1 vs 2 ranks under `mpirun`.
public final class ShardedTwHINTrainer {
  public let comm: any Communicator
  public let sharding: RowSharding
  /// The whole graph's schema (ids in batches and negatives are global rows).
  public let schema: GraphSchema
  /// This rank's rows of each table (tables of `localCounts` rows; at least one row is
  /// allocated) and the replicated translations.
  public let model: TwHINModel
  public let localCounts: [Int]
  public let loss: TwHINLoss
  public let tableOptimizers: [any SparseRowOptimizer]
  public let translationOptimizer: Optimizer
  /// The negatives' stream: the same on every rank (and the same as `TwHINTrainer`'s).
  public var negativeRNG: RandomGenerator
  public private(set) var stepCount = 0
  private let store: ShardedRowStore
  private let fused: TwHINFusedStep
  private var translationGrad: [Float] = []

  /// `full` is the starting model, the same on every rank (built from the same seed or
  /// loaded from the same checkpoint); this rank keeps its rows of it.
  public init(
    full: TwHINModel, comm: any Communicator, loss: TwHINLoss, tableOptimizers: [TableOptimizerSpec],
    translationOptimizer: TranslationOptimizerSpec, seed: UInt64 = 0
  ) throws {
    let names = full.schema.tables.map(\.name)
    guard tableOptimizers.count == names.count else {
      throw TwHINError("ShardedTwHINTrainer: \(tableOptimizers.count) table optimizers given for \(names.count) tables; give one per table")
    }
    self.comm = comm
    let sharding = RowSharding(rank: comm.rank, worldSize: comm.worldSize)
    self.sharding = sharding
    schema = full.schema
    let localCounts = full.schema.tables.map { sharding.localCount(rows: $0.numEmbeddings) }
    self.localCounts = localCounts
    let localSchema = try GraphSchema(
      tables: zip(full.schema.tables, localCounts).map { TableSpec(name: $0.name, numEmbeddings: max(1, $1)) },
      relations: full.schema.relations)
    let model = try TwHINModel(schema: localSchema, dim: full.dim, embeddingInit: .uniform(low: 0, high: 0), identityOperators: false)
    let d = full.dim
    for (t, table) in full.tables.enumerated() {
      try model.tables[t].weight.assign(ShardedTwHINTrainer.rows(of: table.weight.value, rows: full.schema.tables[t].numEmbeddings, sharding: sharding))
    }
    try model.translations.assign(full.translations.value)
    self.model = model
    self.loss = loss
    self.tableOptimizers = try zip(names, tableOptimizers).map { try $1.make(table: $0) }
    self.translationOptimizer = try translationOptimizer.make(translations: model.translations)
    negativeRNG = RandomGenerator(seed: seed, stream: 0x7477_6869_6E)  // "twhin", as TwHINTrainer
    store = ShardedRowStore(comm: comm, tables: model.tables.map(\.weight), rows: full.schema.tables.map(\.numEmbeddings),
                            optimizers: self.tableOptimizers, dim: d)
    fused = TwHINFusedStep(tables: names.count, dim: d)
  }

  /// One step on the global `batch` (the same on every rank); every rank gets the
  /// whole batch's loss.
  @discardableResult
  public func step(_ batch: EdgeBatch) throws -> TwHINStepResult {
    try loss.checkBatch(schema, batch)
    let negatives = loss.sampler.sample(batch, schema: schema, using: &negativeRNG)
    let byRelation = try loss.arrange(negatives, batch, schema)
    let rates = learningRates
    for opt in tableOptimizers { opt.iteration = stepCount }
    model.translations.zeroGrad()
    let (rank, n) = (comm.rank, comm.worldSize)
    let r: TwHINFusedStep.Result
    do {
      r = try fused.run(model, batch, byRelation, store: store, owns: { $0 % n == rank }, translationGrad: &translationGrad)
    } catch let e as TwHINError {
      throw TwHINError(e.message.replacingOccurrences(of: "TwHIN step:", with: "TwHIN step \(stepCount):"))
    }
    let total = try comm.allReduce(Double(r.loss), .sum)
    try comm.allReduce(&translationGrad, .sum)
    try (model.translations.value * Tensor(shape: model.translations.shape, scalars: translationGrad)).sum().backward()
    try translationOptimizer.step()
    model.translations.zeroGrad()
    let result = TwHINStepResult(step: stepCount, loss: Float(total), positives: batch.count, negatives: r.negatives, learningRates: rates)
    stepCount += 1
    return result
  }

  /// The learning rate of each table and of the translations at the next step.
  public var learningRates: [String: Float] {
    var d: [String: Float] = [:]
    for (t, opt) in zip(schema.tables, tableOptimizers) { d[t.name] = opt.schedule.rate(at: stepCount) }
    d["translations"] = translationOptimizer.groups[0].schedule.rate(at: translationOptimizer.iteration)
    return d
  }

  /// The whole model assembled on every rank (all-gather of each table's shards): for
  /// checkpoints, evaluation and export. Needs the whole model's memory on each rank.
  public func assembledModel() throws -> TwHINModel {
    let full = try TwHINModel(schema: schema, dim: model.dim, embeddingInit: .uniform(low: 0, high: 0), identityOperators: false)
    for t in 0..<schema.tables.count {
      try full.tables[t].weight.assign(assembled(model.tables[t].weight.value, localRows: localCounts[t], rows: schema.tables[t].numEmbeddings))
    }
    try full.translations.assign(model.translations.value)
    return full
  }

  /// Optimizer state of the whole model (row-wise states assembled like the tables), in
  /// `TwHINTrainer.optimizerStateDict()`'s names, so a checkpoint resumes on any world size.
  public func assembledOptimizerStateDict() throws -> StateDict {
    var d = StateDict()
    for (t, opt) in tableOptimizers.enumerated() {
      let (mine, n) = (localCounts[t], schema.tables[t].numEmbeddings)
      for (k, v) in opt.state.sorted(by: { $0.key < $1.key }) {
        let whole = try assembled(v, localRows: mine, rows: n)
        d["\(TwHINTrainer.tablePrefix(schema.tables[t].name)).\(k)"] = .init(whole)
      }
    }
    for (k, e) in translationOptimizer.stateDict().entries { d[k] = e }
    d["__trainer__.step"] = .init(Tensor(scalar: Float(stepCount)), dtype: .i64)
    return d
  }

  /// What this rank writes to a sharded checkpoint: `sharded` — its rows of each table
  /// (`model`) and of each table's optimizer state (`optimizer`), under the single-process
  /// names — and `replicated`, the rest (translations, their optimizer state, the step),
  /// the same on every rank. `rows` gives each sharded tensor's whole row count by its
  /// `model/` / `optimizer/` name (`CheckpointShardManifest`).
  public func checkpointParts() throws -> (sharded: (model: StateDict, optimizer: StateDict),
                                           replicated: (model: StateDict, optimizer: StateDict), rows: [String: Int]) {
    var shardModel = StateDict(), shardOptimizer = StateDict(), model = StateDict(), optimizer = StateDict()
    var rows: [String: Int] = [:]
    let tableNames = Set(schema.tables.map { TwHINTrainer.tablePrefix($0.name) })
    for (name, e) in self.model.stateDict().entries {
      guard tableNames.contains(name), let t = schema.tables.firstIndex(where: { TwHINTrainer.tablePrefix($0.name) == name }) else {
        model[name] = e
        continue
      }
      rows["model/" + name] = schema.tables[t].numEmbeddings
      if localCounts[t] > 0 { shardModel[name] = .init(try mine(e.tensor, t), dtype: e.dtype) }
    }
    for (t, opt) in tableOptimizers.enumerated() {
      for (k, v) in opt.state.sorted(by: { $0.key < $1.key }) {
        let name = "\(TwHINTrainer.tablePrefix(schema.tables[t].name)).\(k)"
        rows["optimizer/" + name] = schema.tables[t].numEmbeddings
        if localCounts[t] > 0 { shardOptimizer[name] = .init(try mine(v, t)) }
      }
    }
    for (k, e) in translationOptimizer.stateDict().entries { optimizer[k] = e }
    optimizer["__trainer__.step"] = .init(Tensor(scalar: Float(stepCount)), dtype: .i64)
    return ((shardModel, shardOptimizer), (model, optimizer), rows)
  }

  /// The first `localCounts[t]` rows (tables keep at least one row allocated).
  private func mine(_ local: Tensor, _ t: Int) throws -> Tensor {
    let inner = Array(local.shape.dropFirst()), width = inner.reduce(1, *)
    return try Tensor(shape: [localCounts[t]] + inner, scalars: Array(local.scalars.prefix(localCounts[t] * width)))
  }

  /// Restores `TwHINTrainer.optimizerStateDict()` (of the whole model): this rank keeps its rows.
  public func loadOptimizerStateDict(_ d: StateDict, origin: String) throws {
    var translation = StateDict()
    for (key, e) in d.entries {
      if key == "__trainer__.step" { stepCount = Int(e.tensor.item ?? 0); continue }
      if let t = schema.tables.firstIndex(where: { key.hasPrefix(TwHINTrainer.tablePrefix($0.name) + ".") }) {
        let name = String(key.dropFirst(TwHINTrainer.tablePrefix(schema.tables[t].name).count + 1))
        tableOptimizers[t].state[name] = try shard(e.tensor, table: t, origin: "\(origin): \(key)")
      } else {
        translation[key] = e
      }
    }
    try translationOptimizer.loadStateDict(translation, origin: origin)
  }

  /// Rows [localRows, …] of every rank interleaved back into [rows, …] (round-robin).
  private func assembled(_ local: Tensor, localRows: Int, rows: Int) throws -> Tensor {
    let width = local.shape.dropFirst().reduce(1, *)
    let parts = try comm.allGatherV(Array(local.scalars.prefix(localRows * width)))
    var out = [Float](repeating: 0, count: rows * width)
    for (q, part) in parts.enumerated() {
      let s = RowSharding(rank: q, worldSize: comm.worldSize)
      for l in 0..<(part.count / max(width, 1)) {
        let g = s.globalRow(ofLocal: l)
        for j in 0..<width { out[g * width + j] = part[l * width + j] }
      }
    }
    return try Tensor(shape: [rows] + Array(local.shape.dropFirst()), scalars: out)
  }

  /// This rank's rows of a whole-table tensor [rows, …].
  private func shard(_ whole: Tensor, table t: Int, origin: String) throws -> Tensor {
    let n = schema.tables[t].numEmbeddings
    guard whole.shape.first == n else {
      throw TwHINError("\(origin): shape \(whole.shape) but table \"\(schema.tables[t].name)\" has \(n) rows; was it saved for another config?")
    }
    return try ShardedTwHINTrainer.rows(of: whole, rows: n, sharding: sharding)
  }

  /// This rank's rows of a whole n-row tensor (`RowShard.slice`), with at least one row
  /// allocated (a rank with none holds one row of zeros, never read).
  static func rows(of whole: Tensor, rows n: Int, sharding: RowSharding) throws -> Tensor {
    let mine = try RowShard(rank: sharding.rank, worldSize: sharding.worldSize, rows: n).slice(whole)
    return mine.shape[0] > 0 ? mine : Tensor.zeros([1] + Array(whole.shape.dropFirst()))
  }
}
