import TMLTensor

/// `tml bench gemm`: GFLOP/s of every GEMM variant this CPU runs (`GEMMKernel.Variant`) on
/// the Heavy Ranker's shapes, in interleaved rounds inside one process (variant after
/// variant, shape by shape), so that load from other processes hits all variants alike.
public struct GEMMComparison {
  /// One product: C[m×n] = op(A)·op(B) with the shared dimension k.
  public struct Shape: Sendable {
    public let m, k, n: Int
    public let transA, transB: Bool
    public var label: String { "\(m)×\(k)×\(n)\(transA ? " Aᵀ" : "")\(transB ? " Bᵀ" : "")" }
  }

  /// The ranker's largest products: forward x·Wᵀ, backward dx = dy·W and dW = dyᵀ·x, at
  /// batch 128 and the 512-row inference batch.
  public static let rankerShapes: [Shape] = [
    Shape(m: 128, k: 2776, n: 1024, transA: false, transB: true),
    Shape(m: 128, k: 1024, n: 2776, transA: false, transB: false),
    Shape(m: 1024, k: 128, n: 2776, transA: true, transB: false),
    Shape(m: 128, k: 4096, n: 2048, transA: false, transB: true),
    Shape(m: 128, k: 2048, n: 256, transA: false, transB: true),
    Shape(m: 512, k: 2776, n: 1024, transA: false, transB: true),
  ]

  public let variants = GEMMKernel.Variant.allCases.filter(\.isSupported)
  public var rounds: Int
  public init(rounds: Int) { self.rounds = rounds }

  /// For each shape, the median GFLOP/s of each variant (in `variants` order).
  public func run() -> [(shape: Shape, gflops: [Double])] {
    let saved = GEMMKernel.variant
    defer { GEMMKernel.variant = saved }
    var rng = RandomGenerator(seed: 5)
    return Self.rankerShapes.map { s in
      let a = Tensor.normal([s.m * s.k], using: &rng).scalars, b = Tensor.normal([s.k * s.n], using: &rng).scalars
      var c = [Float](repeating: 0, count: s.m * s.n)
      var samples = Array(repeating: [Double](), count: variants.count)
      for round in -1..<rounds {
        for (i, v) in variants.enumerated() {
          GEMMKernel.variant = v
          let t0 = Stopwatch.now()
          a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
              c.withUnsafeMutableBufferPointer { cp in
                BLAS.gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a: ap.baseAddress!, lda: s.transA ? s.m : s.k,
                          b: bp.baseAddress!, ldb: s.transB ? s.k : s.n, beta: 0, c: cp.baseAddress!, ldc: s.n)
              }
            }
          }
          if round >= 0 { samples[i].append(Stopwatch.now() - t0) }
        }
      }
      let flops = 2 * Double(s.m) * Double(s.n) * Double(s.k)
      return (s, samples.map { t in flops / t.sorted()[t.count / 2] / 1e9 })
    }
  }
}
