import CKernels

/// Adam's element update in SIMD C (Sources/CKernels/adam_avx512.c, 16 lanes, and
/// adam_avx2.c, 8 lanes), used by `Adam` where the CPU has them. For each element, in
/// this order (PyTorch's single-tensor Adam):
///
///     AdamW: w ← w·decay          Adam: g ← g + λ·w
///     m ← m + (g − m)(1 − β₁)
///     v ← β₂·v + (1 − β₂)·g·g
///     w ← w − stepSize·m / (√v / √(1 − β₂ᵗ) + ε)
///
/// Every operation rounds to Float as written (no fused multiply-adds), so both kernels
/// equal the scalar loop bit for bit (tested); they are ≈ 3× faster than the loop Swift
/// emits for generic x86-64, whose square roots and divisions are 4 wide.
///
/// The width follows the GEMM variant (`GEMMKernel.active`): AVX-512 with the AVX-512
/// GEMM, AVX2 otherwise, so that `SWIFTTML_GEMM=avx2` runs what a CPU without AVX-512 runs.
public enum AdamKernel {
  public enum Variant: String, Sendable { case avx512, avx2 }

  static let hasAVX512 = tml_avx512_available() != 0
  static let hasAVX2 = tml_avx2_available() != 0
  public static let isSupported = hasAVX512 || hasAVX2
  /// Whether `Adam` uses a kernel where supported (tests switch it off to compare).
  nonisolated(unsafe) public static var isEnabled = isSupported
  /// Forces one width (tests); nil follows the GEMM variant.
  nonisolated(unsafe) public static var forcedVariant: Variant? = nil

  /// The kernel `update` runs now, or nil for the caller's scalar loop.
  public static var active: Variant? {
    guard isEnabled else { return nil }
    if let v = forcedVariant { return (v == .avx512 ? hasAVX512 : hasAVX2) ? v : nil }
    if hasAVX512 && GEMMKernel.active == .avx512 { return .avx512 }
    return hasAVX2 ? .avx2 : nil
  }

  /// Runs the update on `count` elements starting at the given pointers. Returns false
  /// (and does nothing) when no kernel is active; the caller then runs its own loop.
  public static func update(
    weights w: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>, firstMoments m: UnsafeMutablePointer<Float>,
    secondMoments v: UnsafeMutablePointer<Float>, count: Int, beta1: Float, beta2: Float, stepSize: Float,
    biasCorrection2Sqrt: Float, eps: Float, decoupledDecay: Float?, l2: Float
  ) -> Bool {
    guard let kernel = active else { return false }
    let update = kernel == .avx512 ? tml_adam_update : tml_adam_update_avx2
    update(w, g, m, v, count, 1 - beta1, beta2, 1 - beta2, stepSize, biasCorrection2Sqrt, eps,
           decoupledDecay == nil ? 0 : 1, l2, decoupledDecay ?? 1)
    return true
  }
}
