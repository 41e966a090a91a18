import TMLDistributed
import TMLNN
import TMLTensor
import TwHIN

/// `tml bench distributed`, TwHIN part: model-parallel training (`ShardedTwHINTrainer`:
/// tables sharded round-robin, each global batch's edges split over the ranks) of the
/// original's four user → tweet relations on random edges, weak scaling: the global batch
/// is `edgesPerRank` × ranks, so each rank computes the same number of edges whatever N.
///
///     edges/s = ranks · edgesPerRank · steps / wall seconds of the timed steps
///
/// with rank 0's seconds and payload bytes inside collectives per step (the all-to-alls of
/// rows and row gradients, the all-reduces of ∂t and the loss).
///
///     let r = try DistributedTwHINBenchmark(steps: 20).run(communicator: try Distributed.communicator())
public struct DistributedTwHINBenchmark {
  public var rows = 1_000_000
  public var dim = 128
  public var edgesPerRank = 20000
  public var inBatchNegatives = 10
  public var globalNegatives = 10
  public var steps: Int
  public var warmup = 3

  public init(steps: Int) { self.steps = max(steps, 1) }

  public func run(communicator comm: any Communicator) throws -> DistributedRecapBenchmark.Result {
    let relations = ["fav", "reply", "retweet", "magic_recs"]
    let schema = try GraphSchema(
      tables: [TableSpec(name: "user", numEmbeddings: rows), TableSpec(name: "tweet", numEmbeddings: rows)],
      relations: relations.map { RelationSpec(name: $0, lhs: "user", rhs: "tweet") })
    let full = try TwHINModel(schema: schema, dim: dim, embeddingInit: .torchrecUniform, seed: 1)
    let trainer = try ShardedTwHINTrainer(
      full: full, comm: comm, loss: TwHINLoss(inBatchNegatives: inBatchNegatives, globalNegatives: globalNegatives),
      tableOptimizers: [.rowWiseAdagrad(.constant(0.01)), .rowWiseAdagrad(.constant(0.01))],
      translationOptimizer: .sgd(.constant(0.05)), seed: 2)
    let batch = edgesPerRank * comm.worldSize
    var rng = RandomGenerator(seed: 3)  // the same batches on every rank
    let pool = try (0..<8).map { _ in
      try EdgeBatch(lhs: (0..<batch).map { _ in rng.int(below: rows) }, relations: (0..<batch).map { _ in rng.int(below: 4) },
                    rhs: (0..<batch).map { _ in rng.int(below: rows) }, schema: schema)
    }
    for i in 0..<warmup { try trainer.step(pool[i % pool.count]) }
    try comm.barrier()
    comm.stats.reset()
    let t0 = Stopwatch.now()
    for i in 0..<steps { try trainer.step(pool[i % pool.count]) }
    try comm.barrier()
    let seconds = Stopwatch.now() - t0
    var r = DistributedRecapBenchmark.Result(
      ranks: comm.worldSize, batchPerRank: edgesPerRank, secondsPerStep: seconds / Double(steps),
      communicationSecondsPerStep: comm.stats.seconds / Double(steps),
      communicationBytesPerStep: Double(comm.stats.bytes) / Double(steps), parameterCount: 2 * rows * dim)
    r.communicationCallsPerStep = Double(comm.stats.calls - 1) / Double(steps)  // less the closing barrier
    return r
  }
}
