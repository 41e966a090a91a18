import TMLTensor

/// A NaN or ±Inf found in a model's or an optimizer's state: the entry's dotted name,
/// the element's position and its value. Parameters must be finite everywhere; buffers
/// may hold ±Inf (a clamp bound at infinity) but never NaN.
///
///     if let bad = model.firstNonFiniteState() { print(bad) }
///     // parameter _backbone.layers.0.weight holds nan at [3, 17] (flat index 3089 of [256, 1024])
public struct NonFiniteValue: CustomStringConvertible, Sendable {
  public enum Kind: String, Sendable { case parameter, buffer, state = "optimizer state" }
  public let kind: Kind
  public let name: String
  /// Flat (row-major) index of the element.
  public let index: Int
  public let shape: [Int]
  public let value: Float

  /// The element's index in each dimension.
  public var position: [Int] {
    var rest = index
    var out = [Int](repeating: 0, count: shape.count)
    for d in shape.indices.reversed() where shape[d] > 0 {
      out[d] = rest % shape[d]
      rest /= shape[d]
    }
    return out
  }

  public var description: String {
    "\(kind.rawValue) \(name) holds \(value) at \(describe(shape: position)) (flat index \(index) of \(describe(shape: shape)))"
  }

  /// The first offending element of `tensor`: NaN or ±Inf, or only NaN when `allowInfinity`.
  /// The first entry of `state` (e.g. an optimizer's state dict) holding NaN or ±Inf.
  public static func first(in state: StateDict, kind: Kind) -> NonFiniteValue? {
    for (name, e) in state.entries {
      if let bad = first(in: e.tensor, name: name, kind: kind) { return bad }
    }
    return nil
  }

  public static func first(in tensor: Tensor, name: String, kind: Kind, allowInfinity: Bool = false) -> NonFiniteValue? {
    let found: Int?
    if allowInfinity {
      found = tensor.firstNonFiniteIndex().flatMap { start in
        tensor.withUnsafeBufferPointer { p in p[start...].firstIndex { $0.isNaN } }
      }
    } else {
      found = tensor.firstNonFiniteIndex()
    }
    guard let i = found else { return nil }
    return NonFiniteValue(kind: kind, name: name, index: i, shape: tensor.shape, value: tensor.withUnsafeBufferPointer { $0[i] })
  }
}

extension Module {
  /// The first parameter holding NaN or ±Inf, else the first buffer holding NaN, in
  /// state-dict order; nil when the model's state is usable. One pass over its memory.
  public func firstNonFiniteState() -> NonFiniteValue? {
    for (name, p) in namedParameters() {
      guard let bad = NonFiniteValue.first(in: p.value, name: name, kind: .parameter) else { continue }
      // A row-sharded parameter names the element's place in the whole tensor.
      guard let shard = p.rowShard else { return bad }
      let width = max(p.shape.dropFirst().reduce(1, *), 1)
      let global = shard.globalRow(bad.index / width) * width + bad.index % width
      return NonFiniteValue(kind: bad.kind, name: name, index: global, shape: shard.wholeShape(p.shape), value: bad.value)
    }
    for (name, b) in namedBuffers() {
      if let bad = NonFiniteValue.first(in: b.value, name: name, kind: .buffer, allowInfinity: true) { return bad }
    }
    return nil
  }
}
