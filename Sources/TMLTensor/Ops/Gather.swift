/// Row gathering (`index_select` on dim 0, an embedding lookup) and column selection
/// (`index_select` on the last dim). Backward scatter-adds the gradient to the chosen
/// rows / columns, so repeated indices accumulate.
extension Tensor {
  /// `out[i] = self[indices[i]]` along the first axis.
  public func gatherRows(_ indices: IndexTensor) throws -> Tensor {
    guard rank >= 1 else { throw TensorError("gatherRows: needs at least a 1-d tensor, got a scalar") }
    try indices.validate(below: shape[0], what: "gatherRows (tensor of shape \(describe(shape: shape)))")
    let rowSize = shape.dropFirst().reduce(1, *)
    var out = try Tensor(allocatingShape: [indices.count] + shape.dropFirst())
    let src = base, dst = out.base
    for (i, r) in indices.values.enumerated() { (dst + i &* rowSize).update(from: src + r &* rowSize, count: rowSize) }
    let full = shape
    Tensor.record(&out, "gatherRows", [self]) { g in
      let grad = Tensor.zeros(full)
      let gp = g.base, o = grad.base
      for (i, r) in indices.values.enumerated() {
        let d = o + r &* rowSize, s = gp + i &* rowSize
        for j in 0..<rowSize { d[j] += s[j] }
      }
      return [grad]
    }
    return out
  }

  /// `index_select(dim: axis, indices)` for axis 0 (rows) or the last axis (columns).
  public func indexSelect(axis: Int, _ indices: IndexTensor) throws -> Tensor {
    let ax = try normalizedAxis(axis, "indexSelect")
    if ax == 0 { return try gatherRows(indices) }
    guard ax == rank - 1 else {
      throw TensorError("indexSelect: only the first or last axis is supported, got axis \(axis) of shape \(describe(shape: shape))")
    }
    let n = shape[ax]
    try indices.validate(below: n, what: "indexSelect (axis \(ax) of shape \(describe(shape: shape)))")
    let outer = count / Swift.max(n, 1), k = indices.count
    var outShape = shape
    outShape[ax] = k
    var out = try Tensor(allocatingShape: outShape)
    let src = base, dst = out.base, idx = indices.values
    for r in 0..<outer { for (j, c) in idx.enumerated() { dst[r &* k &+ j] = src[r &* n &+ c] } }
    let full = shape
    Tensor.record(&out, "indexSelect", [self]) { g in
      let grad = Tensor.zeros(full)
      let gp = g.base, o = grad.base
      for r in 0..<outer { for (j, c) in idx.enumerated() { o[r &* n &+ c] += gp[r &* k &+ j] } }
      return [grad]
    }
    return out
  }
}
