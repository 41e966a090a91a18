import TMLTensor

/// Adagrad (PyTorch `optim.Adagrad`, lr_decay 0):
///
///     g ← g + λ·p;   G ← G + g²;   p ← p − lr · g / (√G + ε)
///
/// State: `sum` (starts at `initialAccumulator`), `step`.
public final class Adagrad: Optimizer {
  public let eps: Float
  public let initialAccumulator: Float
  public let weightDecay: Float

  public init(groups: [ParameterGroup], eps: Float = 1e-10, initialAccumulator: Float = 0, weightDecay: Float = 0) throws {
    self.eps = eps
    self.initialAccumulator = initialAccumulator
    self.weightDecay = weightDecay
    try super.init(groups: groups)
  }

  public override func update(_ p: Parameter, name: String, gradient: Tensor, learningRate lr: Float, state: inout [String: Tensor]) throws {
    var bufs = try [state.removeValue(forKey: "sum") ?? Tensor.full(initialAccumulator, allocatingShape: p.shape)]
    let (eps, wd) = (self.eps, weightDecay)
    Optimizer.withBuffers(p, gradient, &bufs) { w, g, s in
      let acc = s[0]
      for i in 0..<w.count {
        let gi = g[i] + wd * w[i]
        acc[i] += gi * gi
        w[i] -= lr * gi / (acc[i].squareRoot() + eps)
      }
    }
    state["sum"] = bufs[0]
    state["step"] = Tensor(scalar: (state["step"]?.item ?? 0) + 1)
  }
}
