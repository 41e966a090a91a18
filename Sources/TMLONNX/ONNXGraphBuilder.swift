import Foundation
import SwiftProtobuf
import TMLTensor

/// Builds one ONNX graph in topological order: graph inputs, initializers (weights, by
/// name) and nodes, each node reading only values already defined, so the node list is
/// a valid execution order. Value names are unique; a name asked for twice gets `_1`, `_2`…
///
///     let g = ONNXGraphBuilder(name: "ranker")
///     let x = g.input("x", shape: [.symbolic("batch"), .fixed(4)])
///     let w = try g.initializer("fc.weight", weight)
///     let y = g.node("Gemm", [x, w], named: "fc", attributes: [.int("transB", 1)])
///     g.output(y, as: "y", shape: [.symbolic("batch"), .fixed(2)])
///     let model = g.model(producer: "tml")
///
/// The model declares `ir_version` 8 and the default-domain opset 17 (the first with
/// `LayerNormalization`), which onnxruntime ≥ 1.12 runs.
public final class ONNXGraphBuilder {
  public static let irVersion: Int64 = 8
  public static let opsetVersion: Int64 = 17

  /// A dimension of a graph input or output: a number, or a name (`batch`) for one that varies.
  public enum Dimension: Equatable, Sendable {
    case fixed(Int)
    case symbolic(String)
  }

  public let name: String
  public private(set) var nodes: [Onnx_NodeProto] = []
  public private(set) var initializers: [Onnx_TensorProto] = []
  public private(set) var inputs: [Onnx_ValueInfoProto] = []
  public private(set) var outputs: [Onnx_ValueInfoProto] = []
  private var used: Set<String> = []
  private var nodeNames: Set<String> = []

  public init(name: String) { self.name = name }

  /// `base`, or `base_<k>` with the smallest k not yet taken.
  public func uniqueName(_ base: String) -> String {
    var candidate = base
    var k = 1
    while used.contains(candidate) {
      candidate = "\(base)_\(k)"
      k += 1
    }
    used.insert(candidate)
    return candidate
  }

  private func uniqueNodeName(_ base: String) -> String {
    var candidate = base
    var k = 1
    while nodeNames.contains(candidate) {
      candidate = "\(base)_\(k)"
      k += 1
    }
    nodeNames.insert(candidate)
    return candidate
  }

  static func valueInfo(_ name: String, elementType: Int32, shape: [Dimension]) -> Onnx_ValueInfoProto {
    var tensor = Onnx_TypeProto.Tensor()
    tensor.elemType = elementType
    var s = Onnx_TensorShapeProto()
    s.dim = shape.map { d in
      var dim = Onnx_TensorShapeProto.Dimension()
      switch d {
      case .fixed(let n): dim.dimValue = Int64(n)
      case .symbolic(let p): dim.dimParam = p
      }
      return dim
    }
    tensor.shape = s
    var type = Onnx_TypeProto()
    type.tensorType = tensor
    var v = Onnx_ValueInfoProto()
    v.name = name
    v.type = type
    return v
  }

  /// Declares a graph input (FLOAT unless `elementType` says otherwise); returns its name.
  @discardableResult
  public func input(_ name: String, elementType: Int32 = ONNXTensorEncoding.float, shape: [Dimension], doc: String = "") -> String {
    let n = uniqueName(name)
    var v = Self.valueInfo(n, elementType: elementType, shape: shape)
    v.docString = doc
    inputs.append(v)
    return n
  }

  /// A float initializer named `name` (the weight's state-dict name where there is one).
  public func initializer(_ name: String, _ t: Tensor) -> String {
    let n = uniqueName(name)
    initializers.append(ONNXTensorEncoding.proto(name: n, t))
    return n
  }

  public func initializer(_ name: String, floats: [Float], shape: [Int]) -> String {
    let n = uniqueName(name)
    initializers.append(ONNXTensorEncoding.proto(name: n, floats: floats, shape: shape))
    return n
  }

  public func initializer(_ name: String, int64s: [Int64], shape: [Int]) -> String {
    let n = uniqueName(name)
    initializers.append(ONNXTensorEncoding.proto(name: n, int64s: int64s, shape: shape))
    return n
  }

  /// A float scalar constant (an initializer of shape []).
  public func scalar(_ name: String, _ value: Float) -> String { initializer(name, floats: [value], shape: []) }

  /// Appends a node `op(inputs)` with one output named `named` (made unique); returns the output.
  @discardableResult
  public func node(_ op: String, _ inputs: [String], named: String, attributes: [ONNXAttribute] = []) -> String {
    let out = uniqueName(named)
    var n = Onnx_NodeProto()
    n.opType = op
    n.name = uniqueNodeName(out)
    n.input = inputs
    n.output = [out]
    n.attribute = attributes.map(\.proto)
    nodes.append(n)
    return out
  }

  /// Declares `value` a graph output under the name `name` (an `Identity` node renames it).
  public func output(_ value: String, as name: String, shape: [Dimension], doc: String = "") {
    let out = value == name ? value : node("Identity", [value], named: name)
    var v = Self.valueInfo(out, elementType: ONNXTensorEncoding.float, shape: shape)
    v.docString = doc
    outputs.append(v)
  }

  /// The whole model: this graph, opset 17, IR version 8, and `metadata` as `metadata_props`.
  public func model(producer: String, version: String, doc: String = "", metadata: [(String, String)] = []) -> Onnx_ModelProto {
    var g = Onnx_GraphProto()
    g.name = name
    g.node = nodes
    g.initializer = initializers
    g.input = inputs
    g.output = outputs
    var opset = Onnx_OperatorSetIdProto()
    opset.domain = ""
    opset.version = Self.opsetVersion
    var m = Onnx_ModelProto()
    m.irVersion = Self.irVersion
    m.producerName = producer
    m.producerVersion = version
    m.docString = doc
    m.opsetImport = [opset]
    m.metadataProps = metadata.map { k, v in
      var e = Onnx_StringStringEntryProto()
      e.key = k
      e.value = v
      return e
    }
    m.graph = g
    return m
  }
}
