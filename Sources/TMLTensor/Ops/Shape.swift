/// Views and layout: reshape (no copy), row slices (no copy), 2-d transpose (copy).
extension Tensor {
  /// The same elements viewed with a new shape (one dimension may be −1). Shares storage.
  public func reshaped(to newShape: [Int]) throws -> Tensor {
    var dims = newShape
    let unknown = dims.indices.filter { dims[$0] == -1 }
    guard unknown.count <= 1, dims.allSatisfy({ $0 >= -1 }) else {
      throw TensorError("reshape: invalid target shape \(describe(shape: newShape)); at most one −1 and no other negative sizes")
    }
    let known = dims.filter { $0 != -1 }.reduce(1, *)
    if let u = unknown.first {
      guard known > 0, count % known == 0 else {
        throw TensorError("reshape: cannot infer −1 in \(describe(shape: newShape)) for \(count) elements (shape \(describe(shape: shape)))")
      }
      dims[u] = count / known
    }
    guard dims.reduce(1, *) == count else {
      throw TensorError("reshape: shape \(describe(shape: shape)) (\(count) elements) cannot be viewed as \(describe(shape: newShape))")
    }
    var out = Tensor(shape: dims, storage: storage, offset: offset)
    let original = shape
    Tensor.record(&out, "reshape", [self]) { g in [try g.reshaped(to: original)] }
    return out
  }

  /// Rows `range` of the first dimension, as a view sharing storage.
  public func rows(_ range: Range<Int>) throws -> Tensor {
    guard rank >= 1, range.lowerBound >= 0, range.upperBound <= shape[0] else {
      throw TensorError("rows: range \(range) is outside the \(shape.first ?? 0) rows of a tensor of shape \(describe(shape: shape))")
    }
    let rowSize = shape.dropFirst().reduce(1, *)
    var out = Tensor(shape: [range.count] + shape.dropFirst(), storage: storage, offset: offset + range.lowerBound * rowSize)
    let full = shape
    Tensor.record(&out, "rows", [self]) { g in
      let grad = Tensor.zeros(full)
      grad.base.advanced(by: range.lowerBound * rowSize).update(from: g.base, count: g.count)
      return [grad]
    }
    return out
  }

  /// The transpose of a 2-d tensor (a copy; matmul takes transpose flags instead).
  public func transposed() throws -> Tensor {
    guard rank == 2 else { throw TensorError("transposed: expects a 2-d tensor, got shape \(describe(shape: shape))") }
    let (m, n) = (shape[0], shape[1])
    var out = Tensor(uninitializedShape: [n, m])
    let a = base, o = out.base
    for i in 0..<m { for j in 0..<n { o[j &* m &+ i] = a[i &* n &+ j] } }
    Tensor.record(&out, "transpose", [self]) { g in [try g.transposed()] }
    return out
  }
}
