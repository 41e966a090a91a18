/// Inverted dropout: each element is kept with probability 1 − p and scaled by
/// 1/(1 − p), so the expectation is unchanged; dx = dy ⊙ mask. (Eval mode is the
/// identity and never calls this.)
extension Tensor {
  public func dropout(probability p: Float, using rng: inout RandomGenerator) throws -> Tensor {
    guard p >= 0 && p < 1 else {
      if p == 1 { return self * 0 }
      throw TensorError("dropout: probability must be in [0, 1], got \(p)")
    }
    let scale = 1 / (1 - p)
    let mask = Tensor(uninitializedShape: shape)
    let mp = mask.base
    for i in 0..<count { mp[i] = rng.uniform() < p ? 0 : scale }
    var out = try self * mask.detached()
    out.node = nil
    Tensor.record(&out, "dropout", [self]) { g in [try g * mask] }
    return out
  }
}
