import Foundation
import TMLTensor

/// A layer weight W [out, in] packed for `GEMMKernel` (B = Wᵀ), rebuilt whenever the
/// parameter has been written since (`Parameter.version`) or the active kernel (and with
/// it the panel layout) has changed. Inference pays the packing
/// once instead of per batch; the cost is one extra copy of the weight while it lives.
/// The bf16 copy (`Precision.inference == .bf16`) is cached the same way, separately.
final class PackedWeightCache: @unchecked Sendable {
  private let lock = NSLock()
  private var packed: (version: Int, matrix: PackedMatrix)?
  private var bf16: (version: Int, matrix: BF16PackedMatrix)?

  func matrix(for weight: Parameter) throws -> PackedMatrix {
    lock.lock()
    defer { lock.unlock() }
    if let p = packed, p.version == weight.version, p.matrix.variant == GEMMKernel.active { return p.matrix }
    let m = try PackedMatrix(transposing: weight.value)
    packed = (weight.version, m)
    return m
  }

  func bf16Matrix(for weight: Parameter) throws -> BF16PackedMatrix {
    lock.lock()
    defer { lock.unlock() }
    if let p = bf16, p.version == weight.version { return p.matrix }
    let m = try BF16PackedMatrix(transposing: weight.value)
    bf16 = (weight.version, m)
    return m
  }

  func clear() {
    lock.lock()
    packed = nil
    bf16 = nil
    lock.unlock()
  }
}
