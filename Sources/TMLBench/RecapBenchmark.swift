import Recap
import TMLNN
import TMLTensor

/// `tml bench recap`: the production Heavy Ranker (see `ProductionArchitecture`) on random
/// inputs — training (forward, multi-task BCE, backward, Adam) and inference examples/s
/// at batch 128, and inference latency at batch 1, 8 and 512.
public struct RecapBenchmark {
  public struct Result: Sendable {
    public let trainExamplesPerSecond: Double
    public let inferenceExamplesPerSecond: Double
    /// Batch size → milliseconds per forward pass.
    public let latencyMilliseconds: [(batch: Int, ms: Double)]
    public let parameterCount: Int
  }

  public var batchSize = 128
  public var repeats: Int
  public init(quick: Bool) { repeats = quick ? 5 : 20 }

  struct Inputs { let c, b, ue, uee, ae, labels, weights: Tensor }

  func inputs(_ n: Int, _ rng: inout RandomGenerator) throws -> Inputs {
    let bin = try Tensor(shape: [n, 59], scalars: (0..<(n * 59)).map { _ in rng.bernoulli(0.3) ? 1 : 0 })
    let labels = try Tensor(shape: [n, 10], scalars: (0..<(n * 10)).map { _ in rng.bernoulli(0.2) ? 1 : 0 })
    return Inputs(c: Tensor.normal([n, 2117], std: 3, using: &rng), b: bin,
                  ue: Tensor.normal([n, 200], using: &rng), uee: Tensor.normal([n, 200], using: &rng),
                  ae: Tensor.normal([n, 200], using: &rng), labels: labels, weights: Tensor.ones([n, 10]))
  }

  public func run(progress: ((String) -> Void)? = nil) throws -> Result {
    let model = try MultiTaskRankingModel(ProductionArchitecture.spec(), seed: 1)
    let loss = MultiTaskLoss(taskNames: model.taskNames, posWeights: Array(repeating: 1, count: 10))
    let opt = try Adam(groups: [ParameterGroup(name: "all", parameters: model.namedParameters(), schedule: .constant(1e-4))],
                       beta1: 0.95, beta2: 0.999, eps: 1e-7)
    var rng = RandomGenerator(seed: 2)
    let x = try inputs(batchSize, &rng)
    model.train()
    progress?("training")
    let train = try Stopwatch.median(warmup: 3, repeats: repeats) {
      opt.zeroGrad()
      let out = try model(continuous: x.c, binary: x.b, userEmbedding: x.ue, userEngEmbedding: x.uee, authorEmbedding: x.ae)
      try loss(out.logits, labels: x.labels, weights: x.weights).total.backward()
      try opt.step()
    }
    model.eval()
    progress?("inference")
    func forward(_ i: Inputs) throws {
      _ = try noGrad { try model(continuous: i.c, binary: i.b, userEmbedding: i.ue, userEngEmbedding: i.uee, authorEmbedding: i.ae) }
    }
    let infer = try Stopwatch.median(warmup: 3, repeats: repeats) { try forward(x) }
    var latency: [(Int, Double)] = []
    for n in [1, 8, 512] {
      let i = try inputs(n, &rng)
      latency.append((n, try Stopwatch.median(warmup: 2, repeats: n >= 512 ? max(repeats / 4, 3) : repeats * 4) { try forward(i) } * 1e3))
    }
    return Result(trainExamplesPerSecond: Double(batchSize) / train, inferenceExamplesPerSecond: Double(batchSize) / infer,
                  latencyMilliseconds: latency, parameterCount: model.parameterCount)
  }
}
