import TMLTensor

/// Binary cross-entropy on logits with per-element weights and per-column positive
/// weights (PyTorch `nn.BCEWithLogitsLoss(weight, pos_weight, reduction)`):
/// l = w·[(1 − y)·z + (1 + (p − 1)y)·log(1 + e^−z)], computed stably (see
/// `Tensor.bceWithLogits`). Non-finite inputs are an error, never a NaN loss.
///
///     let loss = try BCEWithLogitsLoss(posWeight: Tensor([1, 2.5]))(logits, labels, weight: w)
public struct BCEWithLogitsLoss {
  public var posWeight: Tensor?
  public var reduction: Reduction

  public init(posWeight: Tensor? = nil, reduction: Reduction = .mean) {
    self.posWeight = posWeight
    self.reduction = reduction
  }

  public func callAsFunction(_ logits: Tensor, _ labels: Tensor, weight: Tensor? = nil) throws -> Tensor {
    try Tensor.bceWithLogits(logits, labels: labels, weight: weight, posWeight: posWeight, reduction: reduction)
  }
}
