import Recap
import TMLNN

extension ONNXGraphBuilder {
  /// The ranker's `Mlp` in eval mode, module by module of `<prefix>.layers.<j>`:
  /// Linear → `Gemm`, BatchNorm1d → `BatchNormalization`, ReLU → `Relu`, Dropout →
  /// nothing (the identity in eval mode). Any other module is an `ONNXExportError` naming it.
  public func mlp(_ x: String, _ mlp: RecapMLP, prefix: String) throws -> String {
    var h = x
    for (j, module) in mlp.layers.layers.enumerated() {
      let path = "\(prefix).layers.\(j)"
      switch module {
      case let l as Linear: h = linear(h, l, prefix: path)
      case let bn as BatchNorm1d: h = batchNorm(h, bn, prefix: path)
      case is ReLU: h = relu(h, named: path)
      case is Dropout: continue
      default:
        throw ONNXExportError("ONNX export: \(path) is of type \(type(of: module)), which has no ONNX form here (an MLP exports Linear, BatchNorm1d, ReLU and Dropout)")
      }
    }
    return h
  }
}
