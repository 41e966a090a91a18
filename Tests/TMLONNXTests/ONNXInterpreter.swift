import Foundation
import TMLONNX
import TMLTensor

/// A small reference interpreter for the ONNX operators the ranker's export uses, written
/// from the ONNX operator specification (opset 17) so `swift test` can check the exported
/// graph's numbers against the Swift model without onnxruntime. Runs the nodes in order;
/// numpy-style broadcasting for the elementwise ops; an operator or attribute value it
/// does not implement is an error naming the node.
struct ONNXInterpreter {
  enum Value {
    case float([Int], [Float])
    case int64([Int], [Int64])
    case bool([Int], [Bool])

    var shape: [Int] {
      switch self { case .float(let s, _), .int64(let s, _), .bool(let s, _): return s }
    }
  }

  struct Failure: Error, CustomStringConvertible { let description: String }

  let model: Onnx_ModelProto

  /// The graph outputs by name for `feeds` (graph input name → value).
  func run(_ feeds: [String: Value]) throws -> [String: Value] {
    var env = feeds
    for t in model.graph.initializer {
      let shape = t.dims.map { Int($0) }
      env[t.name] = t.dataType == ONNXTensorEncoding.int64
        ? .int64(shape, try ONNXTensorEncoding.int64s(t)) : .float(shape, try ONNXTensorEncoding.floats(t))
    }
    for n in model.graph.node {
      let inputs = try n.input.map { name -> Value? in
        if name.isEmpty { return nil }
        guard let v = env[name] else { throw Failure(description: "node \(n.name) reads \(name), which is not defined") }
        return v
      }
      env[n.output[0]] = try evaluate(n, inputs)
    }
    return Dictionary(uniqueKeysWithValues: try model.graph.output.map { o in
      guard let v = env[o.name] else { throw Failure(description: "output \(o.name) was not computed") }
      return (o.name, v)
    })
  }

  func attribute(_ n: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? { n.attribute.first { $0.name == name } }

  func floats(_ v: Value?, _ n: Onnx_NodeProto) throws -> ([Int], [Float]) {
    guard case .float(let s, let x)? = v else { throw Failure(description: "\(n.opType) \(n.name): expected a float input, got \(String(describing: v))") }
    return (s, x)
  }

  func evaluate(_ n: Onnx_NodeProto, _ x: [Value?]) throws -> Value {
    switch n.opType {
    case "Identity": return x[0]!
    case "Relu": return try unary(n, x) { Swift.max($0, 0) }
    case "Sigmoid": return try unary(n, x) { 1 / (1 + Foundation.exp(-$0)) }
    case "Sqrt": return try unary(n, x) { $0.squareRoot() }
    case "Reciprocal": return try unary(n, x) { 1 / $0 }
    case "Abs": return try unary(n, x) { Swift.abs($0) }
    case "Log": return try unary(n, x) { Foundation.log($0) }
    case "Sign": return try unary(n, x) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
    case "IsNaN": let (s, v) = try floats(x[0], n); return .bool(s, v.map(\.isNaN))
    case "IsInf": let (s, v) = try floats(x[0], n); return .bool(s, v.map(\.isInfinite))
    case "Add": return try binary(n, x, +)
    case "Sub": return try binary(n, x, -)
    case "Mul": return try binary(n, x, *)
    case "Div": return try binary(n, x, /)
    case "Equal":
      let (a, b) = (try floats(x[0], n), try floats(x[1], n))
      let shape = try Self.broadcast([a.0, b.0])
      return .bool(shape, Self.indices(shape).map { a.1[Self.source($0, shape, a.0)] == b.1[Self.source($0, shape, b.0)] })
    case "Or":
      guard case .bool(let sa, let a)? = x[0], case .bool(let sb, let b)? = x[1] else { throw Failure(description: "Or \(n.name): bool inputs expected") }
      let shape = try Self.broadcast([sa, sb])
      return .bool(shape, Self.indices(shape).map { a[Self.source($0, shape, sa)] || b[Self.source($0, shape, sb)] })
    case "Where":
      guard case .bool(let sc, let c)? = x[0] else { throw Failure(description: "Where \(n.name): bool condition expected") }
      let (a, b) = (try floats(x[1], n), try floats(x[2], n))
      let shape = try Self.broadcast([sc, a.0, b.0])
      return .float(shape, Self.indices(shape).map { c[Self.source($0, shape, sc)] ? a.1[Self.source($0, shape, a.0)] : b.1[Self.source($0, shape, b.0)] })
    case "Gemm": return try gemm(n, x)
    case "BatchNormalization":
      let (s, v) = try floats(x[0], n)
      let (scale, shift, mean, variance) = (try floats(x[1], n).1, try floats(x[2], n).1, try floats(x[3], n).1, try floats(x[4], n).1)
      let eps = attribute(n, "epsilon")?.f ?? 1e-5
      let c = s[1]
      return .float(s, v.indices.map { i in let j = i % c; return (v[i] - mean[j]) / (variance[j] + eps).squareRoot() * scale[j] + shift[j] })
    case "LayerNormalization":
      let (s, v) = try floats(x[0], n)
      let (scale, shift) = (try floats(x[1], n).1, try floats(x[2], n).1)
      guard attribute(n, "axis")?.i ?? -1 == -1 else { throw Failure(description: "LayerNormalization \(n.name): only axis -1 is implemented") }
      let eps = Double(attribute(n, "epsilon")?.f ?? 1e-5)
      let d = s.last!
      var out = [Float](repeating: 0, count: v.count)
      for r in 0..<(v.count / d) {
        let row = v[(r * d)..<(r * d + d)].map(Double.init)
        let mu = row.reduce(0, +) / Double(d)
        let variance = row.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(d)
        for i in 0..<d { out[r * d + i] = Float((row[i] - mu) / (variance + eps).squareRoot()) * scale[i] + shift[i] }
      }
      return .float(s, out)
    case "ReduceMean":
      let (s, v) = try floats(x[0], n)
      guard attribute(n, "axes")?.ints == [-1], attribute(n, "keepdims")?.i ?? 1 == 1 else {
        throw Failure(description: "ReduceMean \(n.name): only axes [-1] with keepdims 1 is implemented")
      }
      let d = s.last!
      return .float(Array(s.dropLast()) + [1], (0..<(v.count / d)).map { r in v[(r * d)..<(r * d + d)].reduce(0, +) / Float(d) })
    case "Clip":
      switch x[0] {
      case .float(let s, let v)?:
        let (lo, hi) = (try floats(x[1], n).1[0], try floats(x[2], n).1[0])
        return .float(s, v.map { $0.isNaN ? $0 : Swift.min(Swift.max($0, lo), hi) })
      case .int64(let s, let v)?:
        guard case .int64(_, let lo)? = x[1], case .int64(_, let hi)? = x[2] else { throw Failure(description: "Clip \(n.name): int64 bounds expected") }
        return .int64(s, v.map { Swift.min(Swift.max($0, lo[0]), hi[0]) })
      default: throw Failure(description: "Clip \(n.name): unsupported input")
      }
    case "Concat": return try concat(n, x.map { $0! })
    case "Gather": return try gather(n, x[0]!, x[1]!)
    case "Shape":
      let s = x[0]!.shape
      let start = Int(attribute(n, "start")?.i ?? 0), end = Int(attribute(n, "end")?.i ?? Int64(s.count))
      return .int64([end - start], s[start..<end].map(Int64.init))
    case "Expand":
      guard case .int64(let shape, let v)? = x[0], shape.isEmpty, case .int64(_, let target)? = x[1] else {
        throw Failure(description: "Expand \(n.name): only an int64 scalar is implemented")
      }
      let s = target.map { Int($0) }
      return .int64(s, [Int64](repeating: v[0], count: s.reduce(1, *)))
    default:
      throw Failure(description: "operator \(n.opType) (node \(n.name)) is not implemented by the test interpreter")
    }
  }

  func unary(_ n: Onnx_NodeProto, _ x: [Value?], _ f: (Float) -> Float) throws -> Value {
    let (s, v) = try floats(x[0], n)
    return .float(s, v.map(f))
  }

  func binary(_ n: Onnx_NodeProto, _ x: [Value?], _ f: (Float, Float) -> Float) throws -> Value {
    let (a, b) = (try floats(x[0], n), try floats(x[1], n))
    let shape = try Self.broadcast([a.0, b.0])
    return .float(shape, Self.indices(shape).map { f(a.1[Self.source($0, shape, a.0)], b.1[Self.source($0, shape, b.0)]) })
  }

  /// Y = A·B (or A·Bᵀ with transB) + C, through TMLTensor's matmul.
  func gemm(_ n: Onnx_NodeProto, _ x: [Value?]) throws -> Value {
    let (sa, a) = try floats(x[0], n), (sb, b) = try floats(x[1], n)
    guard attribute(n, "transA")?.i ?? 0 == 0, attribute(n, "alpha") == nil, attribute(n, "beta") == nil else {
      throw Failure(description: "Gemm \(n.name): transA, alpha and beta are not implemented")
    }
    let transB = attribute(n, "transB")?.i ?? 0 == 1
    var y = try Tensor.matmul(try Tensor(shape: sa, scalars: a), try Tensor(shape: sb, scalars: b), transposeB: transB).scalars
    let shape = [sa[0], transB ? sb[0] : sb[1]]
    if x.count > 2, let c = x[2] {
      let (sc, cv) = try floats(c, n)
      for i in y.indices { y[i] += cv[Self.source(i, shape, sc)] }
    }
    return .float(shape, y)
  }

  func concat(_ n: Onnx_NodeProto, _ parts: [Value]) throws -> Value {
    let axis = attribute(n, "axis")?.i ?? 0
    guard parts.allSatisfy({ $0.shape.count == 2 }), axis == 1 || axis == -1 else {
      throw Failure(description: "Concat \(n.name): only rank-2 inputs along axis 1 are implemented")
    }
    let rows = parts[0].shape[0]
    let widths = parts.map { $0.shape[1] }
    var out: [Float] = []
    for r in 0..<rows {
      for (p, w) in zip(parts, widths) {
        guard case .float(_, let v) = p else { throw Failure(description: "Concat \(n.name): float inputs expected") }
        out += v[(r * w)..<(r * w + w)]
      }
    }
    return .float([rows, widths.reduce(0, +)], out)
  }

  func gather(_ n: Onnx_NodeProto, _ data: Value, _ indices: Value) throws -> Value {
    guard case .int64(let si, let idx) = indices else { throw Failure(description: "Gather \(n.name): int64 indices expected") }
    switch (attribute(n, "axis")?.i ?? 0, data) {
    case (0, .float(let sd, let v)) where sd.count == 2:
      let d = sd[1]
      return .float(si + [d], idx.flatMap { v[(Int($0) * d)..<(Int($0) * d + d)] })
    case (1, .int64(let sd, let v)) where sd.count == 2 && si.isEmpty:
      return .int64([sd[0]], (0..<sd[0]).map { v[$0 * sd[1] + Int(idx[0])] })
    default:
      throw Failure(description: "Gather \(n.name): only rows of a float matrix or one column of an int64 matrix are implemented")
    }
  }

  /// The numpy broadcast of `shapes` (right-aligned; 1 stretches).
  static func broadcast(_ shapes: [[Int]]) throws -> [Int] {
    let rank = shapes.map(\.count).max() ?? 0
    return try (0..<rank).map { k in
      let dims = shapes.map { s in k < rank - s.count ? 1 : s[k - (rank - s.count)] }
      let m = dims.max() ?? 1
      guard dims.allSatisfy({ $0 == 1 || $0 == m }) else { throw Failure(description: "shapes \(shapes) do not broadcast") }
      return m
    }
  }

  static func indices(_ shape: [Int]) -> Range<Int> { 0..<shape.reduce(1, *) }

  /// The flat index in a tensor of shape `from` that output element `i` (of `shape`) reads.
  static func source(_ i: Int, _ shape: [Int], _ from: [Int]) -> Int {
    if from == shape { return i }
    var rest = i, index = 0, step = 1
    for k in (0..<shape.count).reversed() {
      let coordinate = rest % shape[k]
      rest /= shape[k]
      let j = k - (shape.count - from.count)
      if j >= 0 {
        if from[j] != 1 { index += coordinate * step }
        step *= from[j]
      }
    }
    return index
  }
}
