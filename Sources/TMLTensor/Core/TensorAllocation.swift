/// Allocation that fails with an error instead of stopping the process: for tensors whose
/// size comes from a config or from data (layer widths, batch sizes, table rows), where an
/// impossible size must be reported, not trapped on.
///
///     let table = try Tensor(allocatingShape: [rows, dim])   // TensorError if it cannot fit
extension Tensor {
  /// The element count of `shape`, or an error when a dimension is negative or the count
  /// (or its size in bytes as Float32) does not fit in Int.
  public static func elementCount(_ shape: [Int]) throws -> Int {
    var n = 1
    for d in shape {
      guard d >= 0 else { throw TensorError("shape \(describe(shape: shape)) has a negative dimension") }
      let (product, overflow) = n.multipliedReportingOverflow(by: d)
      guard !overflow, product <= BufferPool.maxFloats else {
        throw TensorError("shape \(describe(shape: shape)) holds more elements than memory can address; check the sizes in the config")
      }
      n = product
    }
    return n
  }

  /// An uninitialised tensor; an error (never a trap) when the shape overflows or the
  /// system cannot provide the memory. Every element must be written before it is read.
  public init(allocatingShape shape: [Int]) throws {
    let n = try Tensor.elementCount(shape)
    do {
      self.init(shape: shape, storage: try TensorStorage(allocatingCount: n))
    } catch let e as TensorError {
      throw TensorError("tensor of shape \(describe(shape: shape)): \(e.message)")
    }
  }

  /// A zero-filled tensor, allocated as `init(allocatingShape:)`.
  public static func zeros(allocatingShape shape: [Int]) throws -> Tensor { try full(0, allocatingShape: shape) }

  /// A tensor filled with `value`, allocated as `init(allocatingShape:)`.
  public static func full(_ value: Float, allocatingShape shape: [Int]) throws -> Tensor {
    let t = try Tensor(allocatingShape: shape)
    t.storage.pointer.initialize(repeating: value, count: t.count)
    return t
  }
}
