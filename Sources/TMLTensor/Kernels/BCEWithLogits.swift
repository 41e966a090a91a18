import Foundation

/// Binary cross-entropy on logits (PyTorch `binary_cross_entropy_with_logits`), fused
/// and stable for any |z|:
///
///     l = w · [ (1 − y)·z + (1 + (p − 1)·y) · softplus(−z) ],
///     softplus(−z) = max(−z, 0) + log1p(e^−|z|)
///     ∂l/∂z = w · [ (1 − y) − (1 + (p − 1)·y) · σ(−z) ]
///
/// `weight` has the logits' shape (per element) or is nil; `posWeight` (p) is one value
/// per column (the last dimension) or nil. Reduction mean divides by the element count.
/// NaN or ±Inf in logits, labels or weights is an error naming the first position.
public enum Reduction: String, Sendable { case none, mean, sum }

extension Tensor {
  public static func bceWithLogits(
    _ logits: Tensor, labels: Tensor, weight: Tensor? = nil, posWeight: Tensor? = nil,
    reduction: Reduction = .mean
  ) throws -> Tensor {
    guard labels.shape == logits.shape else {
      throw TensorError("bceWithLogits: labels \(describe(shape: labels.shape)) must have the logits' shape \(describe(shape: logits.shape))")
    }
    if let w = weight, w.shape != logits.shape {
      throw TensorError("bceWithLogits: weight \(describe(shape: w.shape)) must have the logits' shape \(describe(shape: logits.shape))")
    }
    let cols = logits.shape.last ?? 1
    if let p = posWeight, p.shape != [cols] {
      throw TensorError("bceWithLogits: pos_weight must have one value per column, shape [\(cols)], got \(describe(shape: p.shape))")
    }
    for (name, t) in [("logits", logits), ("labels", labels), ("weight", weight), ("pos_weight", posWeight)] {
      guard let t else { continue }
      if let i = t.scalars.firstIndex(where: { !$0.isFinite }) {
        throw TensorError("bceWithLogits: \(name) has a non-finite value (\(t.scalars[i])) at flat index \(i) of shape \(describe(shape: t.shape)); the loss would be NaN. Check the inputs (or the learning rate, if the logits diverged)")
      }
    }
    let n = logits.count
    let z = logits.base, y = labels.base, w = weight?.base, pw = posWeight?.base
    let elementwise = Tensor(uninitializedShape: logits.shape)
    let lp = elementwise.base
    var total: Double = 0
    for i in 0..<n {
      let zi = z[i], yi = y[i]
      let l = pw.map { 1 + ($0[i % cols] - 1) * yi } ?? 1
      let softplusNeg = Swift.max(-zi, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(zi)))
      var loss = (1 - yi) * zi + l * softplusNeg
      if let w { loss *= w[i] }
      lp[i] = loss
      total += Double(loss)
    }
    var out: Tensor
    switch reduction {
    case .none: out = elementwise
    case .sum: out = Tensor(scalar: Float(total))
    case .mean: out = Tensor(scalar: Float(total / Double(Swift.max(n, 1))))
    }
    let shape = logits.shape
    let kept = (logits, labels, weight, posWeight)
    record(&out, "bceWithLogits", [logits]) { g in
      // The kernel reads the inputs through raw pointers: keep their storage alive.
      withExtendedLifetime(kept) { bceBackward(g) }
    }
    func bceBackward(_ g: Tensor) -> [Tensor?] {
      let grad = Tensor(uninitializedShape: shape)
      let gp = grad.base, up = g.base
      let scale: Float = reduction == .mean ? 1 / Float(Swift.max(n, 1)) : 1
      for i in 0..<n {
        let zi = z[i], yi = y[i]
        let l = pw.map { 1 + ($0[i % cols] - 1) * yi } ?? 1
        var d = (1 - yi) - l * Tensor.sigmoid(-zi)
        if let w { d *= w[i] }
        gp[i] = d * (reduction == .none ? up[i] : up[0] * scale)
      }
      return [grad]
    }
    return out
  }
}
