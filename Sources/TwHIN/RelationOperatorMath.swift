import TMLTensor

/// The arithmetic of each `RelationOperator` on one D-vector, with the pieces backward
/// and candidate scoring need. With s = ⟨u, op(v)⟩ and g = ∂ℓ/∂op(v):
///
///                   op(v)                       adjoint(g) = ∂ℓ/∂v          ∂ℓ/∂t
///     translation   v + t                       g                           g
///     diagonal      t ∘ v                       t ∘ g                       g ∘ v
///     complex       (a∘x − b∘y, a∘y + b∘x)      (a∘g₁ + b∘g₂, a∘g₂ − b∘g₁)   (g₁∘x + g₂∘y, g₂∘x − g₁∘y)
///
/// (complex: t = (a, b), v = (x, y), g = (g₁, g₂), real halves first). Since
/// ⟨u, op(v)⟩ = ⟨adjoint(u), v⟩ + bias(u) with bias = ⟨u, t⟩ for translation and 0
/// otherwise, all candidates of either side are scored by one GEMM.
extension RelationOperator {
  /// out = op(v) (`out` may alias `v`).
  @inline(__always)
  func apply(_ t: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ d: Int) {
    switch self {
    case .translation: for j in 0..<d { out[j] = v[j] + t[j] }
    case .diagonal: for j in 0..<d { out[j] = t[j] * v[j] }
    case .complex:
      let h = d / 2
      for j in 0..<h {
        let (a, b, x, y) = (t[j], t[h + j], v[j], v[h + j])
        out[j] = a * x - b * y
        out[h + j] = a * y + b * x
      }
    }
  }

  /// out = adjoint(g): ⟨g, op(v)⟩ = ⟨adjoint(g), v⟩ + const (`out` may alias `g`).
  @inline(__always)
  func adjoint(_ t: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ d: Int) {
    switch self {
    case .translation: if UnsafePointer(out) != g { out.update(from: g, count: d) }
    case .diagonal: for j in 0..<d { out[j] = t[j] * g[j] }
    case .complex:
      let h = d / 2
      for j in 0..<h {
        let (a, b, g1, g2) = (t[j], t[h + j], g[j], g[h + j])
        out[j] = a * g1 + b * g2
        out[h + j] = a * g2 - b * g1
      }
    }
  }

  /// gt += ∂⟨g, op(v)⟩/∂t.
  @inline(__always)
  func accumulateParameterGradient(_ v: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ gt: UnsafeMutablePointer<Float>, _ d: Int) {
    switch self {
    case .translation: for j in 0..<d { gt[j] += g[j] }
    case .diagonal: for j in 0..<d { gt[j] += g[j] * v[j] }
    case .complex:
      let h = d / 2
      for j in 0..<h {
        let (x, y, g1, g2) = (v[j], v[h + j], g[j], g[h + j])
        gt[j] += g1 * x + g2 * y
        gt[h + j] += g2 * x - g1 * y
      }
    }
  }

  /// op(x) for the rows of x [n, D] with t [1, D], through the autograd tape (`TwHINLoss`).
  func apply(_ x: Tensor, _ t: Tensor) throws -> Tensor {
    switch self {
    case .translation: return try x + t
    case .diagonal: return try x * t
    case .complex:
      // op(x) = (t·A) ∘ x + (t·B) ∘ (x·J): t·A = (a, a), t·B = (b, b), x·J = (−y, x).
      let d = x.shape[1], h = d / 2
      var a = [Float](repeating: 0, count: d * d), b = a, j = a
      for k in 0..<h {
        a[k * d + k] = 1; a[k * d + h + k] = 1
        b[(h + k) * d + k] = 1; b[(h + k) * d + h + k] = 1
        j[(h + k) * d + k] = -1; j[k * d + h + k] = 1
      }
      let (ma, mb, mj) = (try Tensor(shape: [d, d], scalars: a), try Tensor(shape: [d, d], scalars: b), try Tensor(shape: [d, d], scalars: j))
      return try Tensor.matmul(t, ma) * x + Tensor.matmul(t, mb) * Tensor.matmul(x, mj)
    }
  }

  /// The parameter vector that makes op the identity (diagonal: ones; complex: 1 + 0i), or
  /// nil for translation (which keeps the original's U(0, 1) initialisation).
  func identityParameter(dim: Int) -> [Float]? {
    switch self {
    case .translation: nil
    case .diagonal: [Float](repeating: 1, count: dim)
    case .complex: [Float](repeating: 1, count: dim / 2) + [Float](repeating: 0, count: dim - dim / 2)
    }
  }
}
