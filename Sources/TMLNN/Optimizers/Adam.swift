import Foundation
import TMLTensor

/// Adam (PyTorch `optim.Adam`), and AdamW with `decoupledWeightDecay`:
///
///     t ← t + 1;  g ← g + λ·p (Adam’s L2)  |  p ← p·(1 − lr·λ) (AdamW)
///     m ← β₁m + (1−β₁)g;   v ← β₂v + (1−β₂)g²
///     p ← p − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)
///
/// State: `exp_avg`, `exp_avg_sq`, `step`.
public class Adam: Optimizer {
  public let beta1: Float
  public let beta2: Float
  public let eps: Float
  public let weightDecay: Float
  public let decoupledWeightDecay: Bool

  public init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
              weightDecay: Float = 0, decoupledWeightDecay: Bool = false) throws {
    self.beta1 = beta1
    self.beta2 = beta2
    self.eps = eps
    self.weightDecay = weightDecay
    self.decoupledWeightDecay = decoupledWeightDecay
    try super.init(groups: groups)
  }

  public override func update(_ p: Parameter, name: String, gradient: Tensor, learningRate lr: Float, state: inout [String: Tensor]) throws {
    let t = (state["step"]?.item ?? 0) + 1
    var bufs = try [state.removeValue(forKey: "exp_avg") ?? Tensor.zeros(allocatingShape: p.shape),
                    state.removeValue(forKey: "exp_avg_sq") ?? Tensor.zeros(allocatingShape: p.shape)]
    let (b1, b2, eps, wd, decoupled) = (beta1, beta2, self.eps, weightDecay, decoupledWeightDecay)
    let stepSize = lr / (1 - Float(pow(Double(b1), Double(t))))
    let bc2Sqrt = Float((1 - pow(Double(b2), Double(t))).squareRoot())
    let decay = 1 - lr * wd  // AdamW's multiplier of the weights
    Optimizer.withBuffers(p, gradient, &bufs) { w, g, s in
      let m = s[0], v = s[1]
      // Memory-bound: split across cores; no branch inside the element loop.
      parallelFor(w.count, minimumPerThread: 1 << 16) { range in
        let lo = range.lowerBound
        if AdamKernel.update(weights: w.baseAddress! + lo, gradients: g.baseAddress! + lo, firstMoments: m.baseAddress! + lo,
                             secondMoments: v.baseAddress! + lo, count: range.count, beta1: b1, beta2: b2, stepSize: stepSize,
                             biasCorrection2Sqrt: bc2Sqrt, eps: eps, decoupledDecay: decoupled ? decay : nil, l2: wd) {
          return
        }
        if decoupled {
          for i in range {
            w[i] *= decay
            m[i] += (g[i] - m[i]) * (1 - b1)
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            w[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2Sqrt + eps)
          }
        } else {
          for i in range {
            let gi = g[i] + wd * w[i]
            m[i] += (gi - m[i]) * (1 - b1)
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            w[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2Sqrt + eps)
          }
        }
      }
    }
    state["exp_avg"] = bufs[0]
    state["exp_avg_sq"] = bufs[1]
    state["step"] = Tensor(scalar: t)
  }
}

/// AdamW (PyTorch `optim.AdamW`): Adam with decoupled weight decay (default λ = 0.01).
public final class AdamW: Adam {
  public init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) throws {
    try super.init(groups: groups, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, decoupledWeightDecay: true)
  }
}
