import TMLNN
import TMLTensor

/// The engine benchmark of `tml bench`: raw `BLAS.gemm` throughput at the ranker's
/// shapes, our `Linear` forward+backward against the three GEMMs it is made of, a
/// MaskBlock training step, and whether memory stays flat over many steps.
public struct EngineBenchmark {
  public struct GemmShape: Sendable { public let m, k, n: Int }

  public struct LinearResult: Sendable {
    public let shape: GemmShape
    /// GFLOP/s of the forward GEMM alone (2·M·N·K / t).
    public let gemmGFLOPS: Double
    /// Seconds for the three raw GEMMs of a forward+backward (y = xWᵀ, dx = dy·W, dW = dyᵀx).
    public let rawSeconds: Double
    /// Seconds for `Linear` forward + backward through autograd (incl. bias, allocation).
    public let linearSeconds: Double
    public var ratio: Double { linearSeconds / rawSeconds }
  }

  public struct MaskBlockResult: Sendable {
    public let batch: Int
    public let secondsPerStep: Double
    public var examplesPerSecond: Double { Double(batch) / secondsPerStep }
    public let rssAfterShortRun: Int
    public let rssAfterLongRun: Int
    public let shortSteps: Int
    public let longSteps: Int
    public var rssGrowth: Double { Double(rssAfterLongRun) / Double(max(rssAfterShortRun, 1)) - 1 }
  }

  public let shapes = [GemmShape(m: 128, k: 2776, n: 1024), GemmShape(m: 128, k: 1024, n: 2776)]
  public var repeats: Int
  public var shortSteps: Int
  public var longSteps: Int

  public init(quick: Bool) {
    repeats = quick ? 5 : 20
    shortSteps = quick ? 20 : 100
    longSteps = quick ? 200 : 1000
  }

  public func runLinear(_ s: GemmShape) throws -> LinearResult {
    var rng = RandomGenerator(seed: 1)
    let x = Tensor.normal([s.m, s.k], using: &rng)
    let w = Tensor.normal([s.n, s.k], std: 0.02, using: &rng)
    let dy = Tensor.normal([s.m, s.n], using: &rng)
    let y = UnsafeMutablePointer<Float>.allocate(capacity: s.m * s.n)
    let dx = UnsafeMutablePointer<Float>.allocate(capacity: s.m * s.k)
    let dw = UnsafeMutablePointer<Float>.allocate(capacity: s.n * s.k)
    defer { y.deallocate(); dx.deallocate(); dw.deallocate() }
    let fwd = try Stopwatch.median(repeats: repeats) {
      try gemm(x, w, into: y, m: s.m, n: s.n, k: s.k, tA: false, tB: true)
    }
    let raw = try Stopwatch.median(repeats: repeats) {
      try gemm(x, w, into: y, m: s.m, n: s.n, k: s.k, tA: false, tB: true)
      try gemm(dy, w, into: dx, m: s.m, n: s.k, k: s.n, tA: false, tB: false)
      try gemm(dy, x, into: dw, m: s.n, n: s.k, k: s.m, tA: true, tB: false)
    }
    var initRNG = RandomGenerator(seed: 2)
    let layer = Linear(s.k, s.n, initialization: .xavierUniform, rng: &initRNG)
    let input = x.requiringGrad()
    let ours = try Stopwatch.median(repeats: repeats) {
      layer.zeroGrad()
      input.zeroGrad()
      let out = try layer(input)
      try out.backward(gradient: dy)
    }
    return LinearResult(shape: s, gemmGFLOPS: 2 * Double(s.m * s.n * s.k) / fwd / 1e9, rawSeconds: raw, linearSeconds: ours)
  }

  private func gemm(_ a: Tensor, _ b: Tensor, into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, tA: Bool, tB: Bool) throws {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        BLAS.gemm(transA: tA, transB: tB, m: m, n: n, k: k, a: pa.baseAddress!, lda: tA ? m : k,
                  b: pb.baseAddress!, ldb: tB ? k : n, beta: 0, c: c, ldc: n)
      }
    }
  }

  /// MaskBlock(2776 → mask 1024 → 2776, hidden 1024, LayerNorm) forward + backward + Adam
  /// step at `batch`, then memory after `shortSteps` and `longSteps` steps.
  public func runMaskBlock(batch: Int = 128, progress: ((Int, Int) -> Void)? = nil) throws -> MaskBlockResult {
    var rng = RandomGenerator(seed: 3)
    let block = MaskBlock(inputDim: 2776, maskInputDim: 2776, aggregationSize: 1024, outputSize: 1024, rng: &rng)
    let opt = try Adam(groups: [ParameterGroup(name: "all", parameters: block.namedParameters(), schedule: .constant(1e-4))])
    let x = Tensor.normal([batch, 2776], using: &rng)
    let dy = Tensor.normal([batch, 1024], using: &rng)
    func step() throws {
      opt.zeroGrad()
      let out = try block(net: x, maskInput: x)
      try out.backward(gradient: dy)
      try opt.step()
    }
    let perStep = try Stopwatch.median(repeats: repeats) { try step() }
    var done = repeats + 2
    while done < shortSteps { try step(); done += 1; progress?(done, longSteps) }
    let rssShort = Stopwatch.peakRSSBytes()
    while done < longSteps { try step(); done += 1; progress?(done, longSteps) }
    let rssLong = Stopwatch.peakRSSBytes()
    return MaskBlockResult(batch: batch, secondsPerStep: perStep, rssAfterShortRun: rssShort, rssAfterLongRun: rssLong,
                           shortSteps: shortSteps, longSteps: longSteps)
  }
}
