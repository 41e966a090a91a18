import Foundation

/// The Heavy Ranker's input featurization in eval mode as one pass per row (the
/// original's `DoubleNormLog` without LayerNorm), for inference without autograd:
///
///     x̃ = isfinite(x) ? x : 0
///     u = sign(x̃)·log1p(|x̃|)
///     v = ((u − μ)·r)·γ + β          (eval BatchNorm: running mean μ, r = 1/√(σ² + ε); omitted without it)
///     y[:, 0..<C]      = clamp(v, lo, hi)   (NaN stays NaN)
///     y[:, C..<C + D]  = binary
///
/// The same Float operations in the same order as the separate ops
/// (`replacingNonFinite`, `sign`, `abs`, `log1p`, `batchNorm`, `clamp`, `concat`), so
/// the result is bitwise the same, without the six intermediate tensors.
public struct SignedLogBatchNorm: Sendable {
  public let mean: [Float], reciprocalStd: [Float], weight: [Float], bias: [Float]
  /// Eval-mode batch norm with running statistics μ, σ² and optional affine γ, β.
  public init(runningMean: [Float], runningVar: [Float], eps: Float, weight: [Float]?, bias: [Float]?) {
    mean = runningMean
    reciprocalStd = runningVar.map { 1 / ($0 + eps).squareRoot() }
    self.weight = weight ?? [Float](repeating: 1, count: runningMean.count)
    self.bias = bias ?? [Float](repeating: 0, count: runningMean.count)
  }
}

extension Tensor {
  public static func signedLogFeatures(continuous x: Tensor, binary: Tensor, batchNorm: SignedLogBatchNorm?,
                                       clampMin lo: Float, clampMax hi: Float) throws -> Tensor {
    guard x.rank == 2, binary.rank == 2, binary.shape[0] == x.shape[0] else {
      throw TensorError("signedLogFeatures: expects continuous [B, C] and binary [B, D], got \(describe(shape: x.shape)) and \(describe(shape: binary.shape))")
    }
    let (rows, c, d) = (x.shape[0], x.shape[1], binary.shape[1])
    if let bn = batchNorm, bn.mean.count != c || bn.weight.count != c || bn.bias.count != c {
      throw TensorError("signedLogFeatures: batch norm has \(bn.mean.count) features, the input \(c)")
    }
    let out = try Tensor(allocatingShape: [rows, c + d])
    let (xp, bp, op) = (x.base, binary.base, out.base)
    let width = c + d
    parallelFor(rows, minimumPerThread: max(1, (1 << 14) / max(width, 1))) { range in
      for r in range {
        let xr = xp + r &* c, yr = op + r &* width
        for j in 0..<c {
          let v = xr[j].isFinite ? xr[j] : 0
          var u = Tensor.sign(v) * Foundation.log1p(Swift.abs(v))
          if let bn = batchNorm { u = (u - bn.mean[j]) * bn.reciprocalStd[j] * bn.weight[j] + bn.bias[j] }
          yr[j] = u.isNaN ? u : Swift.min(Swift.max(u, lo), hi)
        }
        (yr + c).update(from: bp + r &* d, count: d)
      }
    }
    if OpProfiler.isEnabled { OpProfiler.lap("fwd signedLogFeatures") }
    return out
  }
}
