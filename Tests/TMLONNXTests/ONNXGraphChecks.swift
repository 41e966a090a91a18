import Foundation
import TMLONNX

/// Structural checks of an ONNX model, as onnx.checker would make them for what the
/// ranker's graph uses: the default-domain opset is declared; every node input is a
/// graph input, an initializer or the output of an earlier node (so the node list is an
/// execution order); no value is defined twice; every graph output is defined; initializer
/// data sizes match their dims. Returns the problems found (empty when well-formed).
enum ONNXGraphChecks {
  static func problems(_ model: Onnx_ModelProto) -> [String] {
    var found: [String] = []
    if !model.opsetImport.contains(where: { $0.domain.isEmpty && $0.version == ONNXGraphBuilder.opsetVersion }) {
      found.append("no default-domain opset \(ONNXGraphBuilder.opsetVersion) in opset_import: \(model.opsetImport)")
    }
    if model.irVersion < 3 { found.append("ir_version \(model.irVersion) is too old for opset imports") }
    let g = model.graph
    var defined = Set<String>()
    func define(_ name: String, _ what: String) {
      if name.isEmpty { found.append("\(what) has an empty name") }
      if !defined.insert(name).inserted { found.append("\(what) \(name) is defined twice") }
    }
    for i in g.input { define(i.name, "graph input") }
    for t in g.initializer {
      define(t.name, "initializer")
      let count = t.dims.reduce(1, *)
      let width: Int64 = t.dataType == ONNXTensorEncoding.int64 ? 8 : 4
      if Int64(t.rawData.count) != count * width { found.append("initializer \(t.name): \(t.rawData.count) bytes for dims \(t.dims)") }
    }
    for (k, n) in g.node.enumerated() {
      for input in n.input where !input.isEmpty && !defined.contains(input) {
        found.append("node \(k) (\(n.opType) \(n.name)) reads \(input) before anything defines it")
      }
      for output in n.output { define(output, "output of node \(k) (\(n.opType))") }
    }
    for o in g.output where !defined.contains(o.name) { found.append("graph output \(o.name) is never computed") }
    return found
  }

  /// The shape of a graph input or output: dimension values, or names for symbolic ones.
  static func shape(_ v: Onnx_ValueInfoProto) -> [String] {
    v.type.tensorType.shape.dim.map { d in
      switch d.value {
      case .dimParam(let name)?: return name
      case .dimValue(let n)?: return String(n)
      case nil: return "?"
      }
    }
  }
}
