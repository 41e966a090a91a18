import Foundation
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// C = op(A)·op(B) for 2-d tensors through `BLAS.gemm` (our AVX-512 kernel where the CPU
/// has it, see `GEMMKernel`, else `cblas_sgemm`), where op is the identity or the
/// transpose (never materialised: the flag goes to the kernel).
/// Gradients (for C = A·B): dA = G·Bᵀ, dB = Aᵀ·G, with the flags composed accordingly.
public enum BLAS {
  /// `c = alpha·op(a)·op(b) + beta·c` on raw row-major buffers: `GEMMKernel` for
  /// alpha = 1, beta ∈ {0, 1} and at least 16 rows when it is enabled, else BLAS.
  @inline(__always)
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    if OpProfiler.isEnabled {
      let start = OpProfiler.now()
      defer { OpProfiler.add(gemmProfileKey(transA, transB, m, n, k), seconds: OpProfiler.now() - start, flops: 2 * Double(m) * Double(n) * Double(k)) }
      run(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
      return
    }
    run(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
  }

  /// "gemm M×K×N" with Aᵀ / Bᵀ when transposed: the key of a product in `OpProfiler`.
  static func gemmProfileKey(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int) -> String {
    "gemm \(m)×\(k)×\(n)\(transA ? " Aᵀ" : "")\(transB ? " Bᵀ" : "")"
  }

  @inline(__always)
  private static func run(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    if alpha == 1, beta == 0 || beta == 1, GEMMKernel.handles(m: m, n: n, k: k) {
      GEMMKernel.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                      accumulate: beta == 1, c: c, ldc: ldc)
      return
    }
    _ = threadsAligned
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }

  /// Sets OpenBLAS's thread count to `Parallelism.threadCount` once, before the first
  /// product, unless the environment sets `OPENBLAS_NUM_THREADS` (see `Parallelism`).
  static let threadsAligned: Void = {
    if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { threads = max(1, Parallelism.threadCount) }
  }()

  /// Threads OpenBLAS may use (no-op with Accelerate).
  public static var threads: Int {
    get {
      #if canImport(Accelerate)
      return 1
      #else
      return Int(swifttml_blas_get_num_threads())
      #endif
    }
    set {
      #if !canImport(Accelerate)
      swifttml_blas_set_num_threads(Int32(newValue))
      #endif
    }
  }
}

extension Tensor {
  /// `op(a)·op(b)`; `a` is [m,k] (or [k,m] when transposed), `b` is [k,n] (or [n,k]).
  public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    guard a.rank == 2, b.rank == 2 else {
      throw TensorError("matmul: expects 2-d tensors, got \(describe(shape: a.shape)) and \(describe(shape: b.shape))")
    }
    let (m, ka) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard ka == kb else {
      throw TensorError("matmul: inner dimensions differ: \(describe(shape: a.shape))\(transposeA ? "ᵀ" : "") · \(describe(shape: b.shape))\(transposeB ? "ᵀ" : "") (\(ka) vs \(kb))")
    }
    var out = try Tensor(allocatingShape: [m, n])
    if ka == 0 {
      out.base.initialize(repeating: 0, count: m * n)
    } else if m > 0 && n > 0 {
      BLAS.gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: ka, a: a.base, lda: a.shape[1],
                b: b.base, ldb: b.shape[1], beta: 0, c: out.base, ldc: n)
    }
    let (ad, bd) = (a.detached(), b.detached())
    record(&out, "matmul", [a, b]) { g in
      // C = op(A)·op(B).  d op(A) = G·op(B)ᵀ,  d op(B) = op(A)ᵀ·G.
      let ga: Tensor? = a.requiresGrad
        ? (transposeA ? try matmul(bd, g, transposeA: transposeB, transposeB: true)
                      : try matmul(g, bd, transposeA: false, transposeB: !transposeB))
        : nil
      let gb: Tensor? = b.requiresGrad
        ? (transposeB ? try matmul(g, ad, transposeA: true, transposeB: transposeA)
                      : try matmul(ad, g, transposeA: !transposeA, transposeB: false))
        : nil
      return [ga, gb]
    }
    return out
  }
}
