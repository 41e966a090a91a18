/// Elementwise `+ − × ÷` between tensors with broadcasting, and with scalars.
/// Gradients: d(a+b) = (g, g); d(a−b) = (g, −g); d(a·b) = (g·b, g·a);
/// d(a/b) = (g/b, −g·a/b²), each summed back to its operand's shape.
extension Tensor {
  enum BinaryOp { case add, sub, mul, div }

  static func binaryKernel(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ name: String) throws -> Tensor {
    let plan = try BroadcastPlan(name, a.shape, b.shape)
    let out = Tensor(uninitializedShape: plan.outShape)
    let pa = a.base, pb = b.base, po = out.base
    if a.shape == b.shape {
      let n = out.count
      parallelFor(n, minimumPerThread: 1 << 16) { r in
        switch op {
        case .add: for i in r { po[i] = pa[i] + pb[i] }
        case .sub: for i in r { po[i] = pa[i] - pb[i] }
        case .mul: for i in r { po[i] = pa[i] * pb[i] }
        case .div: for i in r { po[i] = pa[i] / pb[i] }
        }
      }
      return out
    }
    plan.forEachRow { o, ao, bo, n, ast, bst in
      let x = pa + ao, y = pb + bo, z = po + o
      switch (op, ast, bst) {
      case (.add, 1, 1): for i in 0..<n { z[i] = x[i] + y[i] }
      case (.add, 1, 0): let s = y[0]; for i in 0..<n { z[i] = x[i] + s }
      case (.add, _, _): for i in 0..<n { z[i] = x[i &* ast] + y[i &* bst] }
      case (.sub, 1, 1): for i in 0..<n { z[i] = x[i] - y[i] }
      case (.sub, _, _): for i in 0..<n { z[i] = x[i &* ast] - y[i &* bst] }
      case (.mul, 1, 1): for i in 0..<n { z[i] = x[i] * y[i] }
      case (.mul, 1, 0): let s = y[0]; for i in 0..<n { z[i] = x[i] * s }
      case (.mul, _, _): for i in 0..<n { z[i] = x[i &* ast] * y[i &* bst] }
      case (.div, 1, 1): for i in 0..<n { z[i] = x[i] / y[i] }
      case (.div, _, _): for i in 0..<n { z[i] = x[i &* ast] / y[i &* bst] }
      }
    }
    return out
  }

  public static func + (a: Tensor, b: Tensor) throws -> Tensor {
    var out = try binaryKernel(.add, a, b, "add")
    record(&out, "add", [a, b]) { g in [g.sumToShape(a.shape), g.sumToShape(b.shape)] }
    return out
  }

  public static func - (a: Tensor, b: Tensor) throws -> Tensor {
    var out = try binaryKernel(.sub, a, b, "sub")
    record(&out, "sub", [a, b]) { g in [g.sumToShape(a.shape), (-g).sumToShape(b.shape)] }
    return out
  }

  public static func * (a: Tensor, b: Tensor) throws -> Tensor {
    var out = try binaryKernel(.mul, a, b, "mul")
    record(&out, "mul", [a, b]) { g in
      [a.requiresGrad ? try (g * b.detached()).sumToShape(a.shape) : nil,
       b.requiresGrad ? try (g * a.detached()).sumToShape(b.shape) : nil]
    }
    return out
  }

  public static func / (a: Tensor, b: Tensor) throws -> Tensor {
    var out = try binaryKernel(.div, a, b, "div")
    let (ad, bd) = (a.detached(), b.detached())
    record(&out, "div", [a, b]) { g in
      let ga = try g / bd
      let gb: Tensor? = b.requiresGrad ? try (-(try ga * ad) / bd).sumToShape(b.shape) : nil
      return [ga.sumToShape(a.shape), gb]
    }
    return out
  }

  /// Elementwise sum without recording (gradient accumulation); shapes must match.
  func adding(_ other: Tensor) -> Tensor {
    let out = Tensor(uninitializedShape: shape)
    let a = base, b = other.base, o = out.base
    parallelFor(count, minimumPerThread: 1 << 16) { r in for i in r { o[i] = a[i] + b[i] } }
    return out
  }

  // MARK: scalars

  /// `a · s + t` elementwise, the kernel behind the scalar operators.
  func affine(scale s: Float, shift t: Float, _ name: String) -> Tensor {
    var out = Tensor(uninitializedShape: shape)
    let a = base, o = out.base
    parallelFor(count, minimumPerThread: 1 << 16) { r in for i in r { o[i] = a[i] * s + t } }
    Tensor.record(&out, name, [self]) { g in [g.affine(scale: s, shift: 0, "scale")] }
    return out
  }

  public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s, "addScalar") }
  public static func + (s: Float, a: Tensor) -> Tensor { a + s }
  public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s, "subScalar") }
  public static func - (s: Float, a: Tensor) -> Tensor { a.affine(scale: -1, shift: s, "rsubScalar") }
  public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0, "mulScalar") }
  public static func * (s: Float, a: Tensor) -> Tensor { a * s }
  public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0, "divScalar") }
  public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0, "neg") }
}
