/// What an inference `linear` does to its output tile right after the GEMM wrote it, on
/// the thread that wrote it (while the tile is still in cache), instead of a separate op:
///
///     .none:  y = x·Wᵀ + b
///     .relu:  y = max(x·Wᵀ + b, 0)      (NaN stays NaN, as `Tensor.relu`)
///
/// Used by eval-mode layers without autograd (`Linear.inference(_:epilogue:)`); training
/// keeps the separate, differentiable ops.
public enum LinearEpilogue: Sendable, Equatable {
  case none
  case relu

  /// Applies the epilogue to C[rows, columns] of a row-major buffer with leading dimension `ldc`.
  @inline(__always)
  func apply(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, columns: Range<Int>) {
    guard self == .relu, !columns.isEmpty else { return }
    for r in rows {
      let row = c + r &* ldc
      for j in columns where row[j] <= 0 { row[j] = 0 }
    }
  }

  /// Applies the epilogue to all of a [rows, columns] buffer, split across threads.
  func apply(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    guard self != .none, rows > 0, columns > 0 else { return }
    parallelFor(rows, minimumPerThread: max(1, (1 << 15) / columns)) { r in
      self.apply(c, ldc: columns, rows: r, columns: 0..<columns)
    }
  }
}
