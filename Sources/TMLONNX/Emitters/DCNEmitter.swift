import Recap
import TMLNN
import TMLTensor

extension ONNXGraphBuilder {
  /// Deep & Cross Network v2 (`<prefix>` = the block's path), read from its state dict:
  ///
  ///     x_{l+1} = x₀ ⊙ Gemm(x_l, W_l, b_l) + x_l            full rank: `_cross_layers.<l>.{weight,bias}`
  ///     W_l x = Gemm(Gemm(x, V_l), U_l, b_l)                 projected: `._down.weight`, `._up.{weight,bias}`
  ///     parallel: Concat(x_L, MLP_p(x₀))   stacked: MLP_p(x_L);   then MLP_out
  public func dcn(_ x0: String, _ dcn: DCN, prefix: String) throws -> String {
    let state = Dictionary(dcn.namedParameters().map { ($0.0, $0.1.value) }, uniquingKeysWith: { a, _ in a })
    func gemm(_ x: String, _ key: String, bias: Bool) throws -> String {
      guard let w = state["\(key).weight"] else { throw ONNXExportError("ONNX export: \(prefix).\(key).weight is missing from the DCN's state") }
      var inputs = [x, initializer("\(prefix).\(key).weight", w)]
      if bias, let b = state["\(key).bias"] { inputs.append(initializer("\(prefix).\(key).bias", b)) }
      return node("Gemm", inputs, named: "\(prefix).\(key)", attributes: [.int("transB", 1)])
    }
    var x = x0
    var l = 0
    while state["_cross_layers.\(l).weight"] != nil || state["_cross_layers.\(l)._down.weight"] != nil {
      let key = "_cross_layers.\(l)"
      let mixed = state["\(key).weight"] != nil
        ? try gemm(x, key, bias: true)
        : try gemm(try gemm(x, "\(key)._down", bias: false), "\(key)._up", bias: true)
      let crossed = node("Mul", [x0, mixed], named: "\(prefix).\(key)/crossed")
      x = node("Add", [crossed, x], named: "\(prefix).\(key)/residual")
      l += 1
    }
    guard l > 0 else { throw ONNXExportError("ONNX export: \(prefix) is a DCN without cross layers in its state (expected \(prefix)._cross_layers.0.*)") }
    var out = x
    if let p = dcn.parallelMLP {
      out = dcn.useParallel
        ? node("Concat", [x, try mlp(x0, p, prefix: "\(prefix)._parallel_mlp")], named: "\(prefix)/parallel", attributes: [.int("axis", 1)])
        : try mlp(x, p, prefix: "\(prefix)._parallel_mlp")
    }
    if let o = dcn.outputMLP { out = try mlp(out, o, prefix: "\(prefix)._output_mlp") }
    return out
  }
}
