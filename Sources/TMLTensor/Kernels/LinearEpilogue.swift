/// What an inference `linear` does to its output tile right after the GEMM wrote it, on
/// the thread that wrote it (while the tile is still in cache), instead of a separate op:
///
///     .none:            y = x·Wᵀ + b
///     .relu:            y = max(x·Wᵀ + b, 0)      (NaN stays NaN, as `Tensor.relu`)
///     .multiplying(z):  y = (x·Wᵀ + b) ⊙ z        (z has y's shape; MaskBlock's net ⊙ mask)
///
/// Used by eval-mode layers without autograd (`Linear.inference(_:epilogue:)`); training
/// keeps the separate, differentiable ops.
public enum LinearEpilogue {
  case none
  case relu
  case multiplying(Tensor)

  /// Checks that a `.multiplying` operand has the output's shape.
  func validate(outputShape: [Int]) throws {
    if case .multiplying(let z) = self, z.shape != outputShape {
      throw TensorError("linear: the multiplying epilogue's operand is \(describe(shape: z.shape)), the output \(describe(shape: outputShape))")
    }
  }

  /// Applies the epilogue to C[rows, columns] of a row-major buffer with leading dimension `ldc`.
  @inline(__always)
  func apply(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, columns: Range<Int>) {
    guard !columns.isEmpty else { return }
    switch self {
    case .none:
      return
    case .relu:
      for r in rows {
        let row = c + r &* ldc
        for j in columns where row[j] <= 0 { row[j] = 0 }
      }
    case .multiplying(let z):
      let zp = z.base
      for r in rows {
        let row = c + r &* ldc, zr = zp + r &* ldc
        for j in columns { row[j] *= zr[j] }
      }
    }
  }

  /// Applies the epilogue to all of a [rows, columns] buffer, split across threads.
  func apply(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    if case .none = self { return }
    guard rows > 0, columns > 0 else { return }
    parallelFor(rows, minimumPerThread: max(1, (1 << 15) / columns)) { r in
      self.apply(c, ldc: columns, rows: r, columns: 0..<columns)
    }
  }

  /// The epilogue as separate (differentiable) ops on y.
  public func applied(to y: Tensor) throws -> Tensor {
    switch self {
    case .none: return y
    case .relu: return y.relu()
    case .multiplying(let z): return try y * z
    }
  }
}
