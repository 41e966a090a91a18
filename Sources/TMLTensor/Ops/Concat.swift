/// Concatenation and splitting along the last (feature) axis or the first (row) axis.
/// The backward of concat is split and vice versa.
extension Tensor {
  /// Concatenates along the last axis: [.., a] ++ [.., b] → [.., a+b]. Leading dims must match.
  public static func concat(_ parts: [Tensor], axis: Int = -1) throws -> Tensor {
    guard let first = parts.first else { throw TensorError("concat: no tensors given") }
    let ax = try first.normalizedAxis(axis, "concat")
    for (i, p) in parts.enumerated() {
      var a = p.shape, b = first.shape
      guard a.count == b.count else {
        throw TensorError("concat: tensor \(i) has rank \(a.count), tensor 0 has rank \(b.count) (shapes \(describe(shape: p.shape)), \(describe(shape: first.shape)))")
      }
      a[ax] = 0; b[ax] = 0
      guard a == b else {
        throw TensorError("concat: tensor \(i) of shape \(describe(shape: p.shape)) does not match tensor 0 of shape \(describe(shape: first.shape)) outside axis \(ax)")
      }
    }
    let widths = parts.map { $0.shape[ax] }
    var outShape = first.shape
    outShape[ax] = widths.reduce(0, +)
    let outer = first.shape[..<ax].reduce(1, *)
    let inner = first.shape[(ax + 1)...].reduce(1, *)
    let rowOut = outShape[ax] * inner
    var out = try Tensor(allocatingShape: outShape)
    let o = out.base
    var start = 0
    for p in parts {
      let w = p.shape[ax] * inner, src = p.base
      for r in 0..<outer { (o + (r &* rowOut &+ start)).update(from: src + r &* w, count: w) }
      start += w
    }
    record(&out, "concat", parts) { g in try g.split(widths, axis: ax).map { Optional($0) } }
    return out
  }

  /// Splits along `axis` into pieces of the given sizes (which must add up to that dimension).
  public func split(_ sizes: [Int], axis: Int = -1) throws -> [Tensor] {
    let ax = try normalizedAxis(axis, "split")
    guard sizes.reduce(0, +) == shape[ax], sizes.allSatisfy({ $0 >= 0 }) else {
      throw TensorError("split: sizes \(sizes) add up to \(sizes.reduce(0, +)) but axis \(ax) of shape \(describe(shape: shape)) has \(shape[ax])")
    }
    let outer = shape[..<ax].reduce(1, *)
    let inner = shape[(ax + 1)...].reduce(1, *)
    let rowIn = shape[ax] * inner
    var start = 0
    var pieces: [Tensor] = []
    for (index, s) in sizes.enumerated() {
      var ps = shape
      ps[ax] = s
      var piece = Tensor(uninitializedShape: ps)
      let w = s * inner, src = base, dst = piece.base
      for r in 0..<outer { (dst + r &* w).update(from: src + (r &* rowIn &+ start), count: w) }
      let (offset, fullShape) = (start, shape)
      Tensor.record(&piece, "split", [self]) { g in
        let grad = Tensor.zeros(fullShape)
        for r in 0..<outer { (grad.base + (r &* rowIn &+ offset)).update(from: g.base + r &* w, count: w) }
        _ = index
        return [grad]
      }
      pieces.append(piece)
      start += w
    }
    return pieces
  }
}
