import Recap
import TMLDistributed
import TMLNN
import TMLTensor
import TMLTrain

/// `tml bench distributed`: data-parallel training of the production Heavy Ranker
/// (`ProductionArchitecture`) on random inputs, one rank per process. Each rank runs
/// forward, multi-task BCE, backward, the gradient all-reduce (`DataParallel`: in place for
/// large weights, 4 MiB buckets for the rest, started during backward when
/// `DataParallel.overlapByDefault()` says so: across machines, or `SWIFTTML_OVERLAP_ALLREDUCE=1`) and Adam on its own batch of `batchPerRank`; the job's throughput is
///
///     examples/s = ranks · batchPerRank · steps / wall seconds of the timed steps
///
/// with the seconds and payload bytes inside collectives per step (rank 0's). Run it under
/// mpirun (the `tml bench distributed` command starts 1 and 2 ranks itself).
///
///     let r = try DistributedRecapBenchmark(steps: 10).run(communicator: try Distributed.communicator())
public struct DistributedRecapBenchmark {
  public struct Result: Equatable, Sendable {
    public var ranks: Int
    public var batchPerRank: Int
    public var secondsPerStep: Double
    public var communicationSecondsPerStep: Double
    public var communicationBytesPerStep: Double
    /// Collective calls per step (gradient buckets, SyncBatchNorm sums).
    public var communicationCallsPerStep: Double = 0
    public var parameterCount: Int
    public var examplesPerSecond: Double { Double(ranks * batchPerRank) / secondsPerStep }

    /// One line a worker prints and the launcher reads back.
    public var line: String {
      "RESULT ranks=\(ranks) batch=\(batchPerRank) step_s=\(secondsPerStep) comm_s=\(communicationSecondsPerStep) comm_bytes=\(communicationBytesPerStep) comm_calls=\(communicationCallsPerStep) params=\(parameterCount)"
    }

    public init(ranks: Int, batchPerRank: Int, secondsPerStep: Double, communicationSecondsPerStep: Double,
                communicationBytesPerStep: Double, parameterCount: Int) {
      self.ranks = ranks
      self.batchPerRank = batchPerRank
      self.secondsPerStep = secondsPerStep
      self.communicationSecondsPerStep = communicationSecondsPerStep
      self.communicationBytesPerStep = communicationBytesPerStep
      self.parameterCount = parameterCount
    }

    /// The result in `output` (a worker's `line`), or nil.
    public init?(parsing output: String) {
      guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }) else { return nil }
      var f: [String: Double] = [:]
      for part in line.split(separator: " ").dropFirst() {
        let kv = part.split(separator: "=", maxSplits: 1)
        if kv.count == 2, let v = Double(kv[1]) { f[String(kv[0])] = v }
      }
      guard let n = f["ranks"], let b = f["batch"], let s = f["step_s"], let cs = f["comm_s"], let cb = f["comm_bytes"], let p = f["params"] else { return nil }
      self.init(ranks: Int(n), batchPerRank: Int(b), secondsPerStep: s, communicationSecondsPerStep: cs, communicationBytesPerStep: cb, parameterCount: Int(p))
      communicationCallsPerStep = f["comm_calls"] ?? 0
    }
  }

  public var batchPerRank = 128
  /// Rows of a `large_embeddings` table over one id per example (0: none), dim `idTableDim`;
  /// row-sharded over the ranks, trained by fused SGD.
  public var idTableRows = 0
  public var idTableDim = 64
  public var steps: Int
  public var warmup = 3

  public init(steps: Int) { self.steps = max(steps, 1) }

  public func run(communicator comm: any Communicator) throws -> Result {
    var spec = ProductionArchitecture.spec()
    if idTableRows > 0 {
      spec.largeEmbeddings = [IdEmbeddingTableSpec(name: "meta__author_id", numEmbeddings: idTableRows, embeddingDim: idTableDim)]
      spec.largeEmbeddingLearningRate = .constant(0.01)
    }
    let model = try MultiTaskRankingModel(spec, seed: 1, communicator: comm)
    let loss = MultiTaskLoss(taskNames: model.taskNames, posWeights: Array(repeating: 1, count: 10))
    // The id table trains by its fused SGD; Adam and the all-reduce take the dense weights.
    let dense = model.namedParameters().filter { !$0.0.hasPrefix("embeddings.ebc.") }
    let opt = try Adam(groups: [ParameterGroup(name: "all", parameters: dense, schedule: .constant(1e-4))],
                       beta1: 0.95, beta2: 0.999, eps: 1e-7)
    let parallel = DataParallel(communicator: comm, module: model)
    try parallel.broadcastState()
    parallel.synchroniseBatchNorm()
    var rng = RandomGenerator(seed: 2 &+ UInt64(comm.rank))
    let n = batchPerRank
    let bin = try Tensor(shape: [n, 59], scalars: (0..<(n * 59)).map { _ in rng.bernoulli(0.3) ? 1 : 0 })
    let labels = try Tensor(shape: [n, 10], scalars: (0..<(n * 10)).map { _ in rng.bernoulli(0.2) ? 1 : 0 })
    let c = Tensor.normal([n, 2117], std: 3, using: &rng)
    let ue = Tensor.normal([n, 200], using: &rng), uee = Tensor.normal([n, 200], using: &rng), ae = Tensor.normal([n, 200], using: &rng)
    let weights = Tensor.ones([n, 10])
    let ids = idTableRows > 0 ? ["meta__author_id": IdBags(ids: (0..<n).map { _ in Int(rng.next() % UInt64(idTableRows)) }, offsets: Array(0..<n))] : [:]
    model.train()
    func step() throws {
      opt.zeroGrad()
      let out = try model(continuous: c, binary: bin, userEmbedding: ue, userEngEmbedding: uee, authorEmbedding: ae, idFeatures: ids)
      try parallel.backwardSummingGradients(of: loss(out.logits, labels: labels, weights: weights).total * parallel.lossScale)
      try opt.step()
    }
    for _ in 0..<warmup { try step() }
    try comm.barrier()
    comm.stats.reset()
    let t0 = Stopwatch.now()
    for _ in 0..<steps { try step() }
    try comm.barrier()
    let seconds = Stopwatch.now() - t0
    var r = Result(ranks: comm.worldSize, batchPerRank: n, secondsPerStep: seconds / Double(steps),
                   communicationSecondsPerStep: comm.stats.seconds / Double(steps),
                   communicationBytesPerStep: Double(comm.stats.bytes) / Double(steps),
                   parameterCount: dense.reduce(0) { $0 + $1.1.value.count })
    r.communicationCallsPerStep = Double(comm.stats.calls - 1) / Double(steps)  // less the closing barrier
    return r
  }
}
