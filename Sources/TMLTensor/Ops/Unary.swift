import Foundation

/// Elementwise functions and their derivatives:
/// exp′ = exp, log′ = 1/x, log1p′ = 1/(1+x), |x|′ = sign(x), sign′ = 0,
/// √x′ = 1/(2√x), relu′ = [relu(x) ≤ 0 ? 0 : 1], σ′ = σ(1−σ), tanh′ = 1 − tanh²,
/// clamp′ = [lo ≤ x ≤ hi] (PyTorch passes the gradient at the bounds).
///
/// NaN follows PyTorch: it propagates through every function here except `sign`
/// (torch.sign(NaN) = 0) and `replacingNonFinite`; relu passes the gradient at a NaN
/// (threshold_backward tests y ≤ 0), clamp does not (it tests lo ≤ x ≤ hi).
extension Tensor {
  /// Applies `f` to every element (split across cores for large tensors).
  @inline(__always)
  func map(_ f: (Float) -> Float) -> Tensor {
    let out = Tensor(uninitializedShape: shape)
    let a = base, o = out.base
    withoutActuallyEscaping(f) { f in
      parallelFor(count, minimumPerThread: 1 << 15) { r in for i in r { o[i] = f(a[i]) } }
    }
    return out
  }

  /// `g ⊙ f(x, y)` where x = self's values and y = the op's output values.
  @inline(__always)
  static func zipMap(_ x: Tensor, _ y: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    let a = x.base, b = y.base, o = out.base
    withoutActuallyEscaping(f) { f in
      parallelFor(x.count, minimumPerThread: 1 << 15) { r in for i in r { o[i] = f(a[i], b[i]) } }
    }
    return out
  }

  public func exp() -> Tensor {
    var out = map { Foundation.exp($0) }
    let y = out.detached()
    Tensor.record(&out, "exp", [self]) { g in [Tensor.zipMap(g, y) { $0 * $1 }] }
    return out
  }

  public func log() -> Tensor {
    var out = map { Foundation.log($0) }
    let x = detached()
    Tensor.record(&out, "log", [self]) { g in [Tensor.zipMap(g, x) { $0 / $1 }] }
    return out
  }

  public func log1p() -> Tensor {
    var out = map { Foundation.log1p($0) }
    let x = detached()
    Tensor.record(&out, "log1p", [self]) { g in [Tensor.zipMap(g, x) { $0 / (1 + $1) }] }
    return out
  }

  public func abs() -> Tensor {
    var out = map { Swift.abs($0) }
    let x = detached()
    Tensor.record(&out, "abs", [self]) { g in [Tensor.zipMap(g, x) { $0 * Tensor.sign($1) }] }
    return out
  }

  /// −1, 0 or 1; 0 for ±0 and for NaN, as `torch.sign` (pytorch/pytorch#41245); zero gradient.
  public func sign() -> Tensor {
    var out = map { Tensor.sign($0) }
    let shape = self.shape
    Tensor.record(&out, "sign", [self]) { _ in [Tensor.zeros(shape)] }
    return out
  }

  @inline(__always) static func sign(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }

  public func sqrt() -> Tensor {
    var out = map { $0.squareRoot() }
    let y = out.detached()
    Tensor.record(&out, "sqrt", [self]) { g in [Tensor.zipMap(g, y) { $0 / (2 * $1) }] }
    return out
  }

  /// max(x, 0) as `torch.relu`: NaN stays NaN (x ≤ 0 is false for NaN), and the
  /// gradient is `y ≤ 0 ? 0 : g` (PyTorch's threshold_backward), so it flows at a NaN.
  public func relu() -> Tensor {
    var out = map { $0 <= 0 ? 0 : $0 }
    let y = out.detached()
    Tensor.record(&out, "relu", [self]) { g in [Tensor.zipMap(g, y) { $1 <= 0 ? 0 : $0 }] }
    return out
  }

  /// σ(x) = 1 / (1 + e^−x), computed without overflow for large |x|.
  public func sigmoid() -> Tensor {
    var out = map { Tensor.sigmoid($0) }
    let y = out.detached()
    Tensor.record(&out, "sigmoid", [self]) { g in [Tensor.zipMap(g, y) { $0 * $1 * (1 - $1) }] }
    return out
  }

  @inline(__always) public static func sigmoid(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + Foundation.exp(-x)) : { let e = Foundation.exp(x); return e / (1 + e) }()
  }

  public func tanh() -> Tensor {
    var out = map { Foundation.tanh($0) }
    let y = out.detached()
    Tensor.record(&out, "tanh", [self]) { g in [Tensor.zipMap(g, y) { $0 * (1 - $1 * $1) }] }
    return out
  }

  /// Elementwise `min(max(x, lo), hi)`; NaN stays NaN as in PyTorch.
  public func clamp(min lo: Float, max hi: Float) -> Tensor {
    var out = map { $0.isNaN ? $0 : Swift.min(Swift.max($0, lo), hi) }
    let x = detached()
    Tensor.record(&out, "clamp", [self]) { g in [Tensor.zipMap(g, x) { ($1 >= lo && $1 <= hi) ? $0 : 0 }] }
    return out
  }

  /// Replaces NaN and ±Inf by `value` (`torch.where(torch.isfinite(x), x, value)`);
  /// the gradient flows only through finite elements.
  public func replacingNonFinite(with value: Float = 0) -> Tensor {
    var out = map { $0.isFinite ? $0 : value }
    let x = detached()
    Tensor.record(&out, "replacingNonFinite", [self]) { g in [Tensor.zipMap(g, x) { $1.isFinite ? $0 : 0 }] }
    return out
  }

  /// 1 where the element is finite, 0 where NaN or ±Inf (no gradient).
  public func isFiniteMask() -> Tensor { map { $0.isFinite ? 1 : 0 } }

  /// True when no element is NaN or ±Inf.
  public var allFinite: Bool { firstNonFiniteIndex() == nil }

  /// The flat index of the first NaN or ±Inf element, or nil when every element is finite.
  /// Reads only the exponent bits (all ones exactly for NaN and ±Inf), on all cores for
  /// large tensors, so checking a whole model costs about one pass over its memory.
  public func firstNonFiniteIndex() -> Int? {
    let n = count, exponent: UInt32 = 0x7F80_0000
    guard n > 0 else { return nil }
    return base.withMemoryRebound(to: UInt32.self, capacity: n) { bits in
      let lock = NSLock()
      var first = Int.max
      parallelFor(n, minimumPerThread: 1 << 18) { range in
        var top: UInt32 = 0
        for i in range { top = Swift.max(top, bits[i] & exponent) }
        guard top == exponent, let i = range.first(where: { bits[$0] & exponent == exponent }) else { return }
        lock.lock()
        first = Swift.min(first, i)
        lock.unlock()
      }
      return first == Int.max ? nil : first
    }
  }

  /// `cond ≠ 0 ? a : b` elementwise (all three the same shape); gradients route to the chosen side.
  public static func `where`(_ cond: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    guard cond.shape == a.shape, a.shape == b.shape else {
      throw TensorError("where: condition \(describe(shape: cond.shape)), a \(describe(shape: a.shape)) and b \(describe(shape: b.shape)) must have the same shape")
    }
    let out = Tensor(uninitializedShape: a.shape)
    let c = cond.base, x = a.base, y = b.base, o = out.base
    for i in 0..<out.count { o[i] = c[i] != 0 ? x[i] : y[i] }
    var result = out
    let mask = cond.detached()
    record(&result, "where", [a, b]) { g in
      [zipMap(g, mask) { $1 != 0 ? $0 : 0 }, zipMap(g, mask) { $1 != 0 ? 0 : $0 }]
    }
    return result
  }
}
