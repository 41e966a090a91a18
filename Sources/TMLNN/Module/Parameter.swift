import TMLTensor

/// A trainable tensor: an autograd leaf whose gradient accumulates across `backward()`
/// calls until `zeroGrad()`. Optimizers update `value` in place (the leaf stays the same).
public final class Parameter {
  /// The values. Every write (optimizer steps, `assign`, direct mutation) bumps `version`;
  /// the observer does not read the old value, so mutation stays in place (SE-0268).
  public var value: Tensor { didSet { version &+= 1 } }
  /// Increments whenever `value` is written; caches derived from the values compare it.
  public private(set) var version = 0
  /// Set when this process holds only some rows of the whole parameter (`RowShard`).
  public var rowShard: RowShard?

  public init(_ initial: Tensor) { value = initial.detached().requiringGrad("parameter") }

  /// The accumulated gradient, or nil before any backward / after `zeroGrad()`.
  public var grad: Tensor? { value.grad }
  public var shape: [Int] { value.shape }
  public func zeroGrad() { value.zeroGrad() }

  /// Replaces the values, keeping this parameter's identity and autograd leaf.
  public func assign(_ newValue: Tensor) throws {
    guard newValue.shape == value.shape else {
      throw TensorError("Parameter.assign: shape \(describe(shape: newValue.shape)) does not match \(describe(shape: value.shape))")
    }
    let src = newValue.scalars
    value.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = src[i] } }
  }
}

/// A non-trainable state tensor saved in the state dict (BatchNorm running statistics,
/// counters, calibration ratios). `dtype` is the type it is saved as (PyTorch's
/// `num_batches_tracked` is int64); in memory it is always Float32.
public final class Buffer {
  /// The values; every write bumps `version`, as for `Parameter`.
  public var value: Tensor { didSet { version &+= 1 } }
  /// Increments whenever `value` is written; caches derived from the values compare it.
  public private(set) var version = 0
  public let dtype: StateDType

  public init(_ value: Tensor, dtype: StateDType = .f32) {
    self.value = value
    self.dtype = dtype
  }
}
