import Recap
import TMLNN
import TMLTensor

/// `tml bench recap --profile`: where the time of a training step and of an inference pass
/// goes (see `OpProfiler`): milliseconds per step of each op kind, forward and backward,
/// of each GEMM shape with its GFLOP/s, and the time outside GEMMs.
public struct RecapProfile: Sendable {
  /// One profiled workload (training at batch 128, inference at 128 and 512).
  public struct Phase: Sendable {
    public let name: String
    /// Wall-clock milliseconds per step, profiling included.
    public let milliseconds: Double
    /// Op kinds ("fwd linear", "bwd layer_norm", "step adam", …): ms per step, calls per step.
    public let ops: [(key: String, milliseconds: Double, calls: Double)]
    /// GEMM shapes ("gemm 128×2776×1024 Bᵀ"): ms per step, calls per step, GFLOP/s.
    public let gemms: [(key: String, milliseconds: Double, calls: Double, gflops: Double)]
    public var gemmMilliseconds: Double { gemms.reduce(0) { $0 + $1.milliseconds } }
  }

  public let phases: [Phase]

  /// Profiles `steps` steps of each workload after two unprofiled warm-up steps.
  public init(steps: Int) throws {
    let bench = RecapBenchmark(quick: true)
    let model = try MultiTaskRankingModel(ProductionArchitecture.spec(), seed: 1)
    let loss = MultiTaskLoss(taskNames: model.taskNames, posWeights: Array(repeating: 1, count: 10))
    let opt = try Adam(groups: [ParameterGroup(name: "all", parameters: model.namedParameters(), schedule: .constant(1e-4))],
                       beta1: 0.95, beta2: 0.999, eps: 1e-7)
    var rng = RandomGenerator(seed: 2)
    let x = try bench.inputs(bench.batchSize, &rng)
    func forward(_ i: RecapBenchmark.Inputs) throws -> MultiTaskRankingModel.Output {
      try model(continuous: i.c, binary: i.b, userEmbedding: i.ue, userEngEmbedding: i.uee, authorEmbedding: i.ae)
    }
    model.train()
    var phases = [try Self.phase("training (fwd + loss + bwd + Adam), batch \(bench.batchSize)", steps: steps) {
      opt.zeroGrad()
      let out = try forward(x)
      let l = try loss(out.logits, labels: x.labels, weights: x.weights).total
      OpProfiler.lap("fwd (rest)")
      try l.backward()
      try OpProfiler.measure("step adam") { try opt.step() }
    }]
    model.eval()
    for n in [bench.batchSize, 512] {
      let i = n == bench.batchSize ? x : try bench.inputs(n, &rng)
      phases.append(try Self.phase("inference (eval forward), batch \(n)", steps: steps) {
        _ = try noGrad { try forward(i) }
        OpProfiler.lap("fwd (rest)")
      })
    }
    self.phases = phases
  }

  static func phase(_ name: String, steps: Int, _ step: () throws -> Void) throws -> Phase {
    for _ in 0..<2 { try step() }
    OpProfiler.reset()
    OpProfiler.isEnabled = true
    defer { OpProfiler.isEnabled = false }
    let t0 = OpProfiler.now()
    for _ in 0..<steps {
      OpProfiler.lap(nil)
      try step()
    }
    let wall = OpProfiler.now() - t0
    let per = 1e3 / Double(steps)
    var ops: [(String, Double, Double)] = []
    var gemms: [(String, Double, Double, Double)] = []
    for (key, e) in OpProfiler.entries {
      if key.hasPrefix("gemm ") {
        gemms.append((String(key.dropFirst(5)), e.seconds * per, Double(e.calls) / Double(steps), e.seconds > 0 ? e.flops / e.seconds / 1e9 : 0))
      } else {
        ops.append((key, e.seconds * per, Double(e.calls) / Double(steps)))
      }
    }
    return Phase(name: name, milliseconds: wall * per, ops: ops.sorted { $0.1 > $1.1 }, gemms: gemms.sorted { $0.1 > $1.1 })
  }

  /// The report `tml bench recap --profile` prints.
  public var report: String {
    var lines: [String] = []
    for p in phases {
      lines.append(p.name + String(format: ": %.2f ms/step (profiled)", p.milliseconds))
      lines.append("  op kind                          ms/step   share   calls/step")
      for o in p.ops {
        lines.append("  " + pad(o.key) + String(format: " %8.2f  %5.1f%%  %7.1f", o.milliseconds, 100 * o.milliseconds / p.milliseconds, o.calls))
      }
      lines.append("  GEMM (M×K×N)                     ms/step   share   calls/step   GFLOP/s")
      for g in p.gemms {
        lines.append("  " + pad(g.key) + String(format: " %8.2f  %5.1f%%  %7.1f    %8.1f", g.milliseconds, 100 * g.milliseconds / p.milliseconds, g.calls, g.gflops))
      }
      let outside = p.milliseconds - p.gemmMilliseconds
      lines.append(String(format: "  GEMMs %.2f ms (%.1f%%), outside GEMMs %.2f ms (%.1f%%)", p.gemmMilliseconds,
                          100 * p.gemmMilliseconds / p.milliseconds, outside, 100 * outside / p.milliseconds))
      lines.append("")
    }
    return lines.joined(separator: "\n")
  }

  private func pad(_ s: String) -> String { s.count >= 30 ? s : s.padding(toLength: 30, withPad: " ", startingAt: 0) }
}
