import Foundation
import TMLNN
import TMLTensor

/// Lazy Adam on the rows a batch touched (FBGEMM's fused `ADAM`, what torchrec runs for
/// `torch.optim.Adam` in backward): for each touched row r, at step t (counted from 1
/// over all steps of this optimizer),
///
///     m[r] ← β₁·m[r] + (1 − β₁)·g[r]
///     v[r] ← β₂·v[r] + (1 − β₂)·g[r]²
///     W[r] ← W[r] − lr · (m[r] / (1 − β₁ᵗ)) / (√(v[r] / (1 − β₂ᵗ)) + ε)
///
/// Untouched rows keep their moments. State `exp_avg` and `exp_avg_sq`, each
/// [num_embeddings, dim] (twice the table).
///
///     table.fuse(SparseAdam(learningRate: .constant(1e-3)))
public final class SparseAdam: SparseRowOptimizer {
  public let schedule: LearningRateSchedule
  public let beta1: Float, beta2: Float, eps: Float
  public var iteration = 0
  public var state: [String: Tensor] = [:]

  public init(learningRate: LearningRateSchedule, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
    schedule = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.eps = eps
  }

  public func apply(to table: Parameter, gradient g: SparseRowGradient) throws {
    let (n, d) = (table.shape[0], table.shape[1])
    guard g.values.shape == [g.rows.count, d] else {
      throw TwHINError("SparseAdam: gradient values \(describe(shape: g.values.shape)) do not match \(g.rows.count) rows of dim \(d)")
    }
    if let bad = g.rows.first(where: { $0 < 0 || $0 >= n }) {
      throw TwHINError("SparseAdam: row \(bad) is outside the table's \(n) rows")
    }
    let lr = schedule.rate(at: iteration), (b1, b2, eps) = (beta1, beta2, self.eps)
    let t = Float(iteration + 1)
    let c1 = 1 - powf(b1, t), c2 = 1 - powf(b2, t)
    var m = try state.removeValue(forKey: "exp_avg") ?? Tensor.zeros(allocatingShape: [n, d])
    var v = try state.removeValue(forKey: "exp_avg_sq") ?? Tensor.zeros(allocatingShape: [n, d])
    g.values.withUnsafeBufferPointer { gv in
      m.withUnsafeMutableBufferPointer { mp in
        v.withUnsafeMutableBufferPointer { vp in
          table.updateInPlace { w in
            for (k, r) in g.rows.enumerated() {
              for j in 0..<d {
                let gi = gv[k * d + j], at = r * d + j
                mp[at] = b1 * mp[at] + (1 - b1) * gi
                vp[at] = b2 * vp[at] + (1 - b2) * gi * gi
                w[at] -= lr * (mp[at] / c1) / ((vp[at] / c2).squareRoot() + eps)
              }
            }
          }
        }
      }
    }
    state["exp_avg"] = m
    state["exp_avg_sq"] = v
    iteration += 1
  }
}
