/// EmbeddingBag pooling (PyTorch `F.embedding_bag` with offsets): bag k covers
/// `indices[offsets[k] ..< offsets[k+1]]` (the last bag runs to the end) and its output
/// row is Σ_i W[indices[i]] (sum) or that sum divided by the bag size (mean; an empty
/// bag gives zeros). The backward is sparse: only the rows that were looked up get a
/// gradient, returned as `SparseRowGradient` — the dense [num_embeddings, dim]
/// gradient is never built.
public struct SparseRowGradient {
  /// Distinct row ids, ascending.
  public var rows: [Int]
  /// [rows.count, dim]: the summed gradient of each row.
  public var values: Tensor

  public init(rows: [Int], values: Tensor) {
    self.rows = rows
    self.values = values
  }

  /// The dense gradient (for tests and small tables).
  public func dense(numRows: Int) -> Tensor {
    let dim = values.shape.last ?? 0
    let out = Tensor.zeros([numRows, dim])
    for (k, r) in rows.enumerated() { (out.base + r &* dim).update(from: values.base + k &* dim, count: dim) }
    return out
  }
}

public enum BagMode: String, Sendable { case sum, mean }

extension Tensor {
  /// Validates bag boundaries and ids; returns the per-bag [start, end) ranges.
  static func bagRanges(indices: IndexTensor, offsets: IndexTensor, numRows: Int) throws -> [Range<Int>] {
    try indices.validate(below: numRows, what: "embeddingBag indices (table has \(numRows) rows)")
    var ranges: [Range<Int>] = []
    let o = offsets.values
    if let first = o.first, first != 0 {
      throw TensorError("embeddingBag: offsets[0] must be 0 (got \(first)); the indices before it would belong to no bag")
    }
    for k in 0..<o.count {
      let start = o[k], end = k + 1 < o.count ? o[k + 1] : indices.count
      guard start >= 0, start <= end, end <= indices.count else {
        throw TensorError("embeddingBag: offsets must be non-decreasing and within 0...\(indices.count); bag \(k) spans \(start)..<\(end)")
      }
      ranges.append(start..<end)
    }
    return ranges
  }

  /// Pools rows of the [numRows, dim] table `self` into [bags, dim].
  public func embeddingBag(indices: IndexTensor, offsets: IndexTensor, mode: BagMode) throws -> (Tensor, [Range<Int>]) {
    guard rank == 2 else { throw TensorError("embeddingBag: table must be [num_embeddings, dim], got \(describe(shape: shape))") }
    let dim = shape[1]
    let ranges = try Tensor.bagRanges(indices: indices, offsets: offsets, numRows: shape[0])
    let out = try Tensor.zeros(allocatingShape: [ranges.count, dim])
    let w = base, o = out.base
    indices.values.withUnsafeBufferPointer { idx in
      parallelFor(ranges.count, minimumPerThread: Swift.max(1, 8192 / Swift.max(dim, 1))) { bags in
        for k in bags {
          let dst = o + k &* dim
          for i in ranges[k] { let src = w + idx[i] &* dim; for j in 0..<dim { dst[j] += src[j] } }
          if mode == .mean && ranges[k].count > 0 {
            let s = 1 / Float(ranges[k].count)
            for j in 0..<dim { dst[j] *= s }
          }
        }
      }
    }
    return (out, ranges)
  }

  /// The sparse gradient of `embeddingBag` for the upstream gradient `g` [bags, dim].
  public static func embeddingBagBackward(
    _ g: Tensor, indices: IndexTensor, ranges: [Range<Int>], mode: BagMode
  ) -> SparseRowGradient {
    let dim = g.shape.last ?? 0
    let unique = Array(Set(indices.values)).sorted()
    var slot = [Int: Int](minimumCapacity: unique.count)
    for (k, r) in unique.enumerated() { slot[r] = k }
    let values = Tensor.zeros([unique.count, dim])
    let v = values.base, gp = g.base
    for (k, range) in ranges.enumerated() where !range.isEmpty {
      let s: Float = mode == .mean ? 1 / Float(range.count) : 1
      let src = gp + k &* dim
      for i in range {
        let dst = v + slot[indices.values[i]]! &* dim
        for j in 0..<dim { dst[j] += src[j] * s }
      }
    }
    return SparseRowGradient(rows: unique, values: values)
  }
}
