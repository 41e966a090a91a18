/// A contiguous, 64-byte-aligned buffer of Float32 owned by one object; tensors
/// share it by reference and copy it on write. Memory comes from `BufferPool`.
public final class TensorStorage: @unchecked Sendable {
  public let pointer: UnsafeMutablePointer<Float>
  public let count: Int
  private let capacity: Int

  /// Uninitialised storage for `count` floats.
  public init(uninitializedCount count: Int) {
    let (p, c) = BufferPool.shared.acquire(count)
    pointer = p
    capacity = c
    self.count = count
  }

  /// Uninitialised storage for `count` floats, or an error when the memory cannot be had.
  public init(allocatingCount count: Int) throws {
    let (p, c) = try BufferPool.shared.acquireChecked(count)
    pointer = p
    capacity = c
    self.count = count
  }

  public convenience init(zeros count: Int) {
    self.init(uninitializedCount: count)
    pointer.initialize(repeating: 0, count: count)
  }

  public convenience init(copying source: UnsafeBufferPointer<Float>) {
    self.init(uninitializedCount: source.count)
    if let base = source.baseAddress { pointer.update(from: base, count: source.count) }
  }

  deinit { BufferPool.shared.release(pointer, capacity: capacity) }
}
