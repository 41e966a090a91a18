/// Sums and means, over everything or over one axis.
/// d sum = broadcast g back; d mean = broadcast g / n.
extension Tensor {
  /// Sum of all elements as a scalar tensor `[]`.
  public func sum() -> Tensor {
    var s: Double = 0
    withUnsafeBufferPointer { p in for v in p { s += Double(v) } }
    var out = Tensor(scalar: Float(s))
    let shape = self.shape
    Tensor.record(&out, "sum", [self]) { g in [Tensor.full(g.item!, shape: shape)] }
    return out
  }

  /// Mean of all elements as a scalar tensor `[]`.
  public func mean() -> Tensor {
    let n = Float(Swift.max(count, 1))
    return sum() * (1 / n)
  }

  /// Sum over `axis` (negative counts from the end); the axis is removed unless `keepDim`.
  public func sum(axis: Int, keepDim: Bool = false) throws -> Tensor {
    let ax = try normalizedAxis(axis, "sum")
    let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
    var keptShape = shape
    keptShape[ax] = 1
    let out = Tensor.zeros(keptShape)
    let a = base, o = out.base
    for i in 0..<outer {
      for k in 0..<n {
        let src = a + (i &* n &+ k) &* inner, dst = o + i &* inner
        for j in 0..<inner { dst[j] += src[j] }
      }
    }
    var result = keepDim ? out : try out.reshaped(to: shape.enumerated().filter { $0.offset != ax }.map(\.element))
    let full = shape
    Tensor.record(&result, "sumAxis", [self]) { g in
      [try Tensor.binaryKernel(.add, Tensor.zeros(full), try g.reshaped(to: keptShape), "sumAxisBackward")]
    }
    return result
  }

  /// Mean over `axis`.
  public func mean(axis: Int, keepDim: Bool = false) throws -> Tensor {
    let ax = try normalizedAxis(axis, "mean")
    return try sum(axis: ax, keepDim: keepDim) * (1 / Float(Swift.max(shape[ax], 1)))
  }

  func normalizedAxis(_ axis: Int, _ op: String) throws -> Int {
    let ax = axis < 0 ? axis + rank : axis
    guard ax >= 0 && ax < rank else {
      throw TensorError("\(op): axis \(axis) is out of range for a tensor of shape \(describe(shape: shape))")
    }
    return ax
  }
}
