import TMLNN

extension ONNXGraphBuilder {
  /// `nn.Linear` as `Gemm(x, W, b; transB = 1)`: y = x·Wᵀ + b with W [out, in] kept as
  /// PyTorch stores it, initializers `<prefix>.weight` and `<prefix>.bias` (no C input
  /// without a bias).
  public func linear(_ x: String, _ layer: Linear, prefix: String, named: String? = nil) -> String {
    var inputs = [x, initializer("\(prefix).weight", layer.weight.value)]
    if let b = layer.bias { inputs.append(initializer("\(prefix).bias", b.value)) }
    return node("Gemm", inputs, named: named ?? prefix, attributes: [.int("transB", 1)])
  }

  /// `Relu(x)`.
  public func relu(_ x: String, named: String) -> String { node("Relu", [x], named: named) }
}
