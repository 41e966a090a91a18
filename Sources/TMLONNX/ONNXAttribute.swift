import Foundation

/// A node attribute of an ONNX operator (`AttributeProto`): a named int, float, string
/// or list of ints, e.g. `.int("transB", 1)` on a `Gemm`, `.ints("axes", [-1])` on a `ReduceMean`.
public enum ONNXAttribute: Equatable, Sendable {
  case int(String, Int64)
  case float(String, Float)
  case ints(String, [Int64])
  case string(String, String)

  public var name: String {
    switch self {
    case .int(let n, _), .float(let n, _), .ints(let n, _), .string(let n, _): return n
    }
  }

  /// The wire form, with `type` set as ONNX requires.
  public var proto: Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    switch self {
    case .int(_, let v): a.type = .int; a.i = v
    case .float(_, let v): a.type = .float; a.f = v
    case .ints(_, let v): a.type = .ints; a.ints = v
    case .string(_, let v): a.type = .string; a.s = Data(v.utf8)
    }
    return a
  }
}
