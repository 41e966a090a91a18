import TMLTensor

/// Stochastic gradient descent with momentum and L2 weight decay (PyTorch `optim.SGD`,
/// dampening 0, no Nesterov):
///
///     g ← g + λ·p;   b ← g (first step) else μ·b + g;   p ← p − lr·b
///
/// State: `momentum_buffer`.
public final class SGD: Optimizer {
  public let momentum: Float
  public let weightDecay: Float

  public init(groups: [ParameterGroup], momentum: Float = 0, weightDecay: Float = 0) throws {
    self.momentum = momentum
    self.weightDecay = weightDecay
    try super.init(groups: groups)
  }

  public override func update(_ p: Parameter, name: String, gradient: Tensor, learningRate lr: Float, state: inout [String: Tensor]) throws {
    let (mu, wd) = (momentum, weightDecay)
    guard mu != 0 else {
      var none: [Tensor] = []
      Optimizer.withBuffers(p, gradient, &none) { w, g, _ in for i in 0..<w.count { w[i] -= lr * (g[i] + wd * w[i]) } }
      return
    }
    let first = state["momentum_buffer"] == nil
    var bufs = try [state.removeValue(forKey: "momentum_buffer") ?? Tensor.zeros(allocatingShape: p.shape)]
    Optimizer.withBuffers(p, gradient, &bufs) { w, g, s in
      let b = s[0]
      for i in 0..<w.count {
        let d = g[i] + wd * w[i]
        b[i] = first ? d : mu * b[i] + d
        w[i] -= lr * b[i]
      }
    }
    state["momentum_buffer"] = bufs[0]
  }
}
