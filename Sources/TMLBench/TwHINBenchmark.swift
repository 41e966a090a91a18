import Foundation
import TMLNN
import TMLTensor
import TwHIN

/// `tml bench twhin`: TwHIN training throughput (edges/s) and memory on random edges.
///
/// A shape is the original's relations (fav, reply, retweet, magic_recs: user → tweet),
/// two tables, a dimension, the batch and negatives, and the tables' fused optimizer.
/// Each step draws a batch of `batch` edges with uniform user, tweet and relation, then
/// runs `TwHINTrainer.step` (negatives, corrected loss, backward with fused row updates,
/// translation update). Reported: edges/s over the timed steps, and peak RSS against
/// the bytes of the tables plus their optimizer state.
///
///     let r = try TwHINBenchmark(shape: .local, steps: 400).run()
///     r.edgesPerSecond
public struct TwHINBenchmark {
  public struct Shape: Sendable {
    public var name: String
    public var userRows: Int
    public var tweetRows: Int
    public var dim: Int
    public var batch: Int
    public var inBatchNegatives: Int
    public var globalNegatives: Int
    public var optimizer: Optimizer

    public enum Optimizer: String, Sendable { case sgd, adagrad, rowwiseAdagrad = "rowwise_adagrad" }

    public init(name: String, userRows: Int, tweetRows: Int, dim: Int, batch: Int = 500, inBatchNegatives: Int = 10,
                globalNegatives: Int = 0, optimizer: Optimizer) {
      self.name = name
      self.userRows = userRows
      self.tweetRows = tweetRows
      self.dim = dim
      self.batch = batch
      self.inBatchNegatives = inBatchNegatives
      self.globalNegatives = globalNegatives
      self.optimizer = optimizer
    }

    /// The original's `projects/twhin/config/local.yaml`: user 424,241 and tweet 72,543 rows,
    /// dim 4, batch 500, 10 in-batch negatives, SGD (lr 0.01 / 0.005).
    public static let local = Shape(name: "local", userRows: 424_241, tweetRows: 72_543, dim: 4, optimizer: .sgd)

    /// dim 200 with large tables and row-wise Adagrad.
    public static func large(userRows: Int = 10_000_000, tweetRows: Int = 10_000_000) -> Shape {
      Shape(name: "large", userRows: userRows, tweetRows: tweetRows, dim: 200, optimizer: .rowwiseAdagrad)
    }

    func spec(_ lr: Float) -> TableOptimizerSpec {
      switch optimizer {
      case .sgd: return .sgd(.constant(lr))
      case .adagrad: return .adagrad(.constant(lr))
      case .rowwiseAdagrad: return .rowWiseAdagrad(.constant(lr))
      }
    }

    /// Bytes of the two tables and of their optimizer state.
    public var tableBytes: Int { (userRows + tweetRows) * dim * 4 }
    public var stateBytes: Int { spec(0).stateBytes(rows: userRows, dim: dim) + spec(0).stateBytes(rows: tweetRows, dim: dim) }
  }

  public struct Result: Sendable {
    public let shape: Shape
    public let edgesPerSecond: Double
    public let secondsPerStep: Double
    public let initSeconds: Double
    public let peakRSSBytes: Int
    public let steps: Int
  }

  public var shape: Shape
  public var steps: Int
  public var warmup: Int

  public init(shape: Shape, steps: Int = 400, warmup: Int = 20) {
    self.shape = shape
    self.steps = steps
    self.warmup = warmup
  }

  public func run(progress: ((Int, Int) -> Void)? = nil) throws -> Result {
    let s = shape
    let relations = ["fav", "reply", "retweet", "magic_recs"]
    let schema = try GraphSchema(
      tables: [TableSpec(name: "user", numEmbeddings: s.userRows), TableSpec(name: "tweet", numEmbeddings: s.tweetRows)],
      relations: relations.map { RelationSpec(name: $0, lhs: "user", rhs: "tweet") })
    let t0 = Stopwatch.now()
    let model = try TwHINModel(schema: schema, dim: s.dim, embeddingInit: .torchrecUniform, seed: 1)
    let initSeconds = Stopwatch.now() - t0
    let trainer = try TwHINTrainer(
      model: model, loss: TwHINLoss(inBatchNegatives: s.inBatchNegatives, globalNegatives: s.globalNegatives),
      tableOptimizers: [s.spec(0.01), s.spec(0.005)], translationOptimizer: .sgd(.constant(0.05)), seed: 2)
    var rng = RandomGenerator(seed: 3)
    let pool = try (0..<64).map { _ in
      try EdgeBatch(lhs: (0..<s.batch).map { _ in rng.int(below: s.userRows) }, relations: (0..<s.batch).map { _ in rng.int(below: 4) },
                    rhs: (0..<s.batch).map { _ in rng.int(below: s.tweetRows) }, schema: schema)
    }
    for i in 0..<warmup { try trainer.step(pool[i % pool.count]) }
    let start = Stopwatch.now()
    for i in 0..<steps {
      try trainer.step(pool[i % pool.count])
      progress?(i + 1, steps)
    }
    let seconds = Stopwatch.now() - start
    return Result(shape: s, edgesPerSecond: Double(steps * s.batch) / seconds, secondsPerStep: seconds / Double(steps),
                  initSeconds: initSeconds, peakRSSBytes: Stopwatch.peakRSSBytes(), steps: steps)
  }
}
