import CKernels
import Foundation

/// A k×n right-hand operand B packed once for a `GEMMKernel` ([panel][k][width],
/// zero-padded; width 32 for AVX-512, 16 for AVX2): a layer's weight at inference, where
/// packing per call would re-read and re-write it for every batch. Built from a `linear`
/// weight W [n, k] as B = Wᵀ. It remembers the kernel that packed it, and only that
/// kernel reads it.
public final class PackedMatrix: @unchecked Sendable {
  /// k, the shared dimension.
  public let rows: Int
  /// n, the output columns.
  public let columns: Int
  /// The kernel whose panel layout this is.
  public let variant: GEMMKernel.Variant
  let base: UnsafeMutablePointer<Float>

  /// Packs B = Wᵀ for `weight` W of shape [n, k] in the layout of `variant` (default: the
  /// active kernel), which must be one of our kernels and supported by this CPU.
  public init(transposing weight: Tensor, for variant: GEMMKernel.Variant = GEMMKernel.active) throws {
    guard weight.rank == 2 else { throw TensorError("PackedMatrix: weight must be [out, in], got \(describe(shape: weight.shape))") }
    guard variant != .blas, variant.isSupported else {
      throw TensorError("PackedMatrix: no \(variant == .blas ? "SwiftTML GEMM kernel is active (SWIFTTML_GEMM=blas or a CPU without AVX2/AVX-512)" : "\(variant.rawValue) support on this CPU"); use Tensor.linear with the weight itself")
    }
    self.variant = variant
    columns = weight.shape[0]
    rows = weight.shape[1]
    let avx2 = variant == .avx2
    let count = max(avx2 ? tml_gemm_avx2_packed_count(Int32(rows), Int32(columns))
                         : tml_gemm_packed_count(Int32(rows), Int32(columns)), 1)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
    base = raw.bindMemory(to: Float.self, capacity: count)
    let panels = (columns + variant.panelWidth - 1) / variant.panelWidth
    let (k, n, out) = (rows, columns, base)
    let pack = avx2 ? tml_gemm_avx2_pack : tml_gemm_pack
    weight.withUnsafeBufferPointer { w in
      parallelFor(panels, minimumPerThread: 4) { r in
        pack(Int32(k), Int32(n), w.baseAddress!, 1, k, out, Int32(r.lowerBound), Int32(r.upperBound))
      }
    }
  }

  deinit { UnsafeMutableRawPointer(base).deallocate() }
}
