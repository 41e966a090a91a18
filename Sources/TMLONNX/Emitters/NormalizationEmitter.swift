import TMLNN

extension ONNXGraphBuilder {
  /// Eval-mode `nn.BatchNorm1d` as `BatchNormalization` (running statistics):
  /// y = (x − μ)/√(σ² + ε)·γ + β. Initializers `<prefix>.running_mean`, `.running_var`,
  /// `.weight`, `.bias`; without affine parameters γ = 1 and β = 0 (`<prefix>/unit_scale`, `<prefix>/zero_shift`).
  public func batchNorm(_ x: String, _ bn: BatchNorm1d, prefix: String) -> String {
    let c = bn.runningMean.value.count
    let scale = bn.weight.map { initializer("\(prefix).weight", $0.value) }
      ?? initializer("\(prefix)/unit_scale", floats: .init(repeating: 1, count: c), shape: [c])
    let shift = bn.bias.map { initializer("\(prefix).bias", $0.value) }
      ?? initializer("\(prefix)/zero_shift", floats: .init(repeating: 0, count: c), shape: [c])
    let mean = initializer("\(prefix).running_mean", bn.runningMean.value)
    let variance = initializer("\(prefix).running_var", bn.runningVar.value)
    return node("BatchNormalization", [x, scale, shift, mean, variance], named: prefix, attributes: [.float("epsilon", bn.eps)])
  }

  /// `nn.LayerNorm` over the last axis: y = (x − μ)·r·w + b, r = 1/√(σ² + ε), biased σ².
  ///
  /// With ε > 0 one `LayerNormalization` node (opset 17). With ε = 0 (the ranker's input
  /// LayerNorm) it is spelled out so a constant row gets r = 0, as `Tensor.layerNorm`
  /// guards it, instead of 0/0:
  ///
  ///     μ = ReduceMean(x);  c = x − μ;  v = ReduceMean(c·c);  r = Where(v = 0, 0, 1/√v)
  ///
  /// Initializers `<prefix>.weight`, `<prefix>.bias` (ones and zeros without affine parameters).
  public func layerNorm(_ x: String, _ ln: LayerNorm, prefix: String) -> String {
    let d = ln.dim
    let weight = ln.weight.map { initializer("\(prefix).weight", $0.value) }
    let bias = ln.bias.map { initializer("\(prefix).bias", $0.value) }
    if ln.eps > 0 {
      let w = weight ?? initializer("\(prefix)/unit_scale", floats: .init(repeating: 1, count: d), shape: [d])
      let b = bias ?? initializer("\(prefix)/zero_shift", floats: .init(repeating: 0, count: d), shape: [d])
      return node("LayerNormalization", [x, w, b], named: prefix, attributes: [.int("axis", -1), .float("epsilon", ln.eps)])
    }
    let axes: [ONNXAttribute] = [.ints("axes", [-1]), .int("keepdims", 1)]
    let mean = node("ReduceMean", [x], named: "\(prefix)/mean", attributes: axes)
    let centred = node("Sub", [x, mean], named: "\(prefix)/centred")
    let square = node("Mul", [centred, centred], named: "\(prefix)/squared")
    let variance = node("ReduceMean", [square], named: "\(prefix)/variance", attributes: axes)
    let zero = scalar("\(prefix)/zero", 0)
    let isZero = node("Equal", [variance, zero], named: "\(prefix)/variance_is_zero")
    let rstd = node("Reciprocal", [node("Sqrt", [variance], named: "\(prefix)/std")], named: "\(prefix)/reciprocal_std")
    let guarded = node("Where", [isZero, zero, rstd], named: "\(prefix)/reciprocal_std_guarded")
    var y = node("Mul", [centred, guarded], named: "\(prefix)/normalised")
    if let weight { y = node("Mul", [y, weight], named: "\(prefix)/scaled") }
    if let bias { y = node("Add", [y, bias], named: "\(prefix)/shifted") }
    return y
  }
}
