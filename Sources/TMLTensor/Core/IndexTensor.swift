/// An integer tensor for indices (row ids, offsets, discrete features, labels as ids).
/// Values are held as `Int` (64-bit); `dtype` records whether it came from / goes to
/// Int32 or Int64 storage (safetensors, tf.Example).
public struct IndexTensor: Equatable {
  public enum DType: String, Sendable { case int32, int64 }
  public var shape: [Int]
  public var values: [Int]
  public var dtype: DType

  public init(shape: [Int], values: [Int], dtype: DType = .int64) throws {
    guard shape.reduce(1, *) == values.count else {
      throw TensorError("IndexTensor: shape \(describe(shape: shape)) holds \(shape.reduce(1, *)) elements but \(values.count) values were given")
    }
    self.shape = shape
    self.values = values
    self.dtype = dtype
  }

  /// A 1-d index tensor.
  public init(_ values: [Int], dtype: DType = .int64) {
    self.shape = [values.count]
    self.values = values
    self.dtype = dtype
  }

  public var count: Int { values.count }

  /// The values as a Float32 tensor of the same shape.
  public func toFloat() -> Tensor {
    try! Tensor(shape: shape, scalars: values.map { Float($0) })  // counts match by construction
  }

  /// Checks every value is in `0..<bound`, naming the first bad position otherwise.
  public func validate(below bound: Int, what: String) throws {
    if let i = values.firstIndex(where: { $0 < 0 || $0 >= bound }) {
      throw TensorError("\(what): index \(values[i]) at position \(i) is out of range 0..<\(bound)")
    }
  }
}
