import Recap
import TMLNN

extension ONNXGraphBuilder {
  /// log1p(a) for a ≥ 0, accurate for small a where Log(1 + a) rounds to 0 (Goldberg's
  /// form, as libm's log1p would give):
  ///
  ///     u = 1 + a;   log1p(a) = Where(u − 1 = 0, a, a·(Log(u)/(u − 1)))
  public func log1p(_ a: String, prefix: String) -> String {
    let one = scalar("\(prefix)/one", 1)
    let u = node("Add", [a, one], named: "\(prefix)/one_plus")
    let d = node("Sub", [u, one], named: "\(prefix)/one_plus_minus_one")
    let ratio = node("Div", [node("Log", [u], named: "\(prefix)/log"), d], named: "\(prefix)/log_ratio")
    let corrected = node("Mul", [a, ratio], named: "\(prefix)/corrected")
    let tiny = node("Equal", [d, scalar("\(prefix)/zero", 0)], named: "\(prefix)/rounds_to_one")
    return node("Where", [tiny, a, corrected], named: "\(prefix)/log1p")
  }

  /// The ranker's `DoubleNormLog` in eval mode, state names `_preprocessor.*`:
  ///
  ///     x = Where(IsNaN(x) ∨ IsInf(x), 0, x)
  ///     x = Sign(x)·log1p(|x|)
  ///     x = BatchNormalization(x)                     (`_before_concat_layers.2.layer`, if configured)
  ///     x = Clip(x, min_value, max_value)             (`_before_concat_layers.{3|2}.{min,max}_value`)
  ///     x = Concat(x, binary)
  ///     x = LayerNorm(x)                              (`layer_norm.layer`, if configured)
  public func doubleNormLog(continuous: String, binary: String, _ f: DoubleNormLog, prefix: String) -> String {
    let zero = scalar("\(prefix)/zero", 0)
    let bad = node("Or", [node("IsNaN", [continuous], named: "\(prefix)/is_nan"), node("IsInf", [continuous], named: "\(prefix)/is_inf")],
                   named: "\(prefix)/non_finite")
    let finite = node("Where", [bad, zero, continuous], named: "\(prefix)._before_concat_layers.0")
    let magnitude = log1p(node("Abs", [finite], named: "\(prefix)/abs"), prefix: "\(prefix)/log1p")
    var x = node("Mul", [node("Sign", [finite], named: "\(prefix)/sign"), magnitude], named: "\(prefix)._before_concat_layers.1")
    var index = 2
    if let bn = f.batchNorm {
      x = batchNorm(x, bn, prefix: "\(prefix)._before_concat_layers.2.layer")
      index = 3
    }
    let clamp = "\(prefix)._before_concat_layers.\(index)"
    x = node("Clip", [x, initializer("\(clamp).min_value", f.clampMin.value), initializer("\(clamp).max_value", f.clampMax.value)], named: clamp)
    x = node("Concat", [x, binary], named: "\(prefix)/concat_binary", attributes: [.int("axis", 1)])
    if let ln = f.layerNorm { x = layerNorm(x, ln, prefix: "\(prefix).layer_norm.layer") }
    return x
  }
}
