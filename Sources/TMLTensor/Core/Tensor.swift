/// An n-dimensional Float32 array: row-major, contiguous, with value semantics.
///
/// `Tensor` is a struct over a shared `TensorStorage`; copies share the buffer and a
/// write copies it first (copy-on-write). `reshaped` and `rows(_:)` are views sharing
/// storage. A tensor that `requiresGrad` carries the autograd node that produced it;
/// operations on it record the tape and `backward()` fills `grad` of the leaves.
///
///     let x = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]).requiringGrad()
///     let y = x.relu().sum()
///     try y.backward()            // x.grad == ones
public struct Tensor {
  public private(set) var shape: [Int]
  @usableFromInline var storage: TensorStorage
  @usableFromInline var offset: Int
  /// The autograd node (leaf or op) when this tensor requires grad.
  public internal(set) var node: GradNode?

  /// Element count of `shape` (1 for a scalar `[]`).
  public var count: Int { shape.reduce(1, *) }
  public var rank: Int { shape.count }

  init(shape: [Int], storage: TensorStorage, offset: Int = 0) {
    self.shape = shape
    self.storage = storage
    self.offset = offset
  }

  /// Uninitialised tensor: every element must be written before it is read.
  public init(uninitializedShape shape: [Int]) {
    self.init(shape: shape, storage: TensorStorage(uninitializedCount: shape.reduce(1, *)))
  }

  /// A tensor with the given elements in row-major order.
  public init(shape: [Int], scalars: [Float]) throws {
    let n = shape.reduce(1, *)
    guard shape.allSatisfy({ $0 >= 0 }) else {
      throw TensorError("Tensor(shape:scalars:): negative dimension in shape \(describe(shape: shape))")
    }
    guard scalars.count == n else {
      throw TensorError("Tensor(shape:scalars:): shape \(describe(shape: shape)) holds \(n) elements but \(scalars.count) scalars were given")
    }
    self.init(shape: shape, storage: scalars.withUnsafeBufferPointer { TensorStorage(copying: $0) })
  }

  /// A 1-d tensor of `scalars`.
  public init(_ scalars: [Float]) {
    self.init(shape: [scalars.count], storage: scalars.withUnsafeBufferPointer { TensorStorage(copying: $0) })
  }

  /// A rank-0 tensor holding `value`.
  public init(scalar value: Float) { self = Tensor.full(value, shape: []) }

  public static func zeros(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, storage: TensorStorage(zeros: shape.reduce(1, *)))
  }

  public static func ones(_ shape: [Int]) -> Tensor { full(1, shape: shape) }

  public static func full(_ value: Float, shape: [Int]) -> Tensor {
    let t = Tensor(uninitializedShape: shape)
    t.storage.pointer.initialize(repeating: value, count: t.count)
    return t
  }

  /// The elements in row-major order.
  public var scalars: [Float] { withUnsafeBufferPointer { Array($0) } }

  /// The single element of a one-element tensor (nil otherwise).
  public var item: Float? { count == 1 ? storage.pointer[offset] : nil }

  /// Element at a multi-index (bounds are the caller's responsibility; for tests and debugging).
  public subscript(_ index: Int...) -> Float {
    var flat = 0
    for (i, d) in zip(index, shape) { flat = flat * d + i }
    return storage.pointer[offset + flat]
  }

  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: storage.pointer + offset, count: count))
  }

  /// Mutable access to the elements, copying the buffer first if it is shared.
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    if !isKnownUniquelyReferenced(&storage) || offset != 0 || storage.count != count {
      let fresh = withUnsafeBufferPointer { TensorStorage(copying: $0) }
      storage = fresh
      offset = 0
    }
    return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
  }

  /// Pointer to the first element, for kernels that only read.
  @inlinable var base: UnsafeMutablePointer<Float> { storage.pointer + offset }

  /// True when both tensors view the same memory (tests of view semantics).
  public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let shown = count <= 16 ? scalars.map { "\($0)" }.joined(separator: ", ") : scalars.prefix(8).map { "\($0)" }.joined(separator: ", ") + ", …"
    return "Tensor(shape: \(describe(shape: shape)), [\(shown)])"
  }
}
