import CKernels
import Dispatch
import Foundation

/// SwiftTML's own single-precision GEMM (Sources/CKernels/gemm_avx512.c), used by `BLAS.gemm` on x86-64
/// CPUs with AVX-512:
///
///     C = op(A)·op(B) (+ C when accumulating),  op = identity or transpose
///
/// A is read in place through strides; B is packed into 32-column panels, 512 rows of k
/// at a time, into a per-thread buffer that stays in L1/L2 while 8-row tiles of A sweep
/// over it (an 8×32 micro-kernel of 16 zmm accumulators). Threads split the panels of C
/// (or its rows when there are few panels); every element of C is summed by one thread
/// in a fixed k order, so results are identical for any thread count.
///
/// Why: the OpenBLAS this machine's distribution ships is often limited to AVX2 kernels
/// on recent AMD CPUs (its core detection predates them, or `OPENBLAS_CORETYPE` pins it),
/// and MKL uses AVX2 on AMD; AVX-512 doubles the multiply-add width. Elsewhere (ARM,
/// AVX2-only x86) `isSupported` is false and OpenBLAS / Accelerate do all the work.
/// `SWIFTTML_GEMM=blas` in the environment turns our kernel off.
public enum GEMMKernel {
  /// Whether this CPU can run the kernel (AVX-512 F/DQ/BW/VL and FMA on x86-64).
  public static let isSupported: Bool = tml_gemm_available() != 0

  /// Whether `BLAS.gemm` uses the kernel (never where `isSupported` is false). Defaults
  /// to `isSupported` unless the environment sets `SWIFTTML_GEMM=blas`.
  nonisolated(unsafe) public static var isEnabled: Bool =
    isSupported && ProcessInfo.processInfo.environment["SWIFTTML_GEMM"]?.lowercased() != "blas"

  /// `isSupported && isEnabled`: whether products actually go to the kernel.
  public static var isActive: Bool { isSupported && isEnabled }

  /// Columns per packed panel of B.
  public static let panelWidth = Int(TML_GEMM_NR)

  /// Below this many rows of C, per-call packing of B costs more than it saves and
  /// `BLAS.gemm` stays with BLAS (a pre-packed B is used at any row count). Tests lower
  /// it to 1 to run every product through the kernel.
  nonisolated(unsafe) public static var minimumRowsForPacking = 16

  /// Work (m·n·k) under which one thread does the whole product.
  static let minimumParallelWork = 1 << 20

  static func handles(m: Int, n: Int, k: Int) -> Bool {
    isActive && m >= minimumRowsForPacking && n > 0 && k > 0 && max(m, n, k) <= Int(Int32.max)
  }

  /// `c = op(a)·op(b) (+ c if accumulate)` on row-major buffers, B packed block by block.
  static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    let (aRow, aCol) = transA ? (1, lda) : (lda, 1)
    let (bRow, bCol) = transB ? (1, ldb) : (ldb, 1)
    forEachSlice(m: m, n: n, k: k) { rows, panels in
      tml_gemm_slice(Int32(m), Int32(n), Int32(k), a, aRow, aCol, b, bRow, bCol, accumulate ? 1 : 0, c, ldc,
                     Int32(rows.lowerBound), Int32(rows.upperBound), Int32(panels.lowerBound), Int32(panels.upperBound))
    }
  }

  /// `c = op(a)·B (+ c if accumulate)` with B pre-packed.
  static func gemm(
    transA: Bool, m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedMatrix, accumulate: Bool,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    let (n, k) = (packed.columns, packed.rows)
    let (aRow, aCol) = transA ? (1, lda) : (lda, 1)
    forEachSlice(m: m, n: n, k: k) { rows, panels in
      tml_gemm_slice_packed(Int32(m), Int32(n), Int32(k), a, aRow, aCol, packed.base, accumulate ? 1 : 0, c, ldc,
                            Int32(rows.lowerBound), Int32(rows.upperBound), Int32(panels.lowerBound), Int32(panels.upperBound))
    }
  }

  /// Splits C into one (rows, panels) slice per thread: panels when there are enough of
  /// them, else rows in multiples of 8.
  static func forEachSlice(m: Int, n: Int, k: Int, _ body: (Range<Int>, Range<Int>) -> Void) {
    let panels = (n + panelWidth - 1) / panelWidth
    let threads = Double(m) * Double(n) * Double(k) < Double(minimumParallelWork) ? 1 : max(1, Parallelism.threadCount)
    if threads == 1 {
      body(0..<m, 0..<panels)
    } else if panels >= 2 * threads {
      DispatchQueue.concurrentPerform(iterations: threads) { t in
        let range = (panels * t / threads)..<(panels * (t + 1) / threads)
        if !range.isEmpty { body(0..<m, range) }
      }
    } else {
      let tiles = (m + 7) / 8
      let parts = min(threads, tiles)
      DispatchQueue.concurrentPerform(iterations: parts) { t in
        let rows = min(m, tiles * t / parts * 8)..<min(m, tiles * (t + 1) / parts * 8)
        if !rows.isEmpty { body(rows, 0..<panels) }
      }
    }
  }
}

/// A k×n right-hand operand B packed once for `GEMMKernel` ([panel][k][32], zero-padded):
/// a layer's weight at inference, where packing per call would re-read and re-write it
/// for every batch. Built from a `linear` weight W [n, k] as B = Wᵀ.
public final class PackedMatrix: @unchecked Sendable {
  /// k, the shared dimension.
  public let rows: Int
  /// n, the output columns.
  public let columns: Int
  let base: UnsafeMutablePointer<Float>

  /// Packs B = Wᵀ for `weight` W of shape [n, k]. Requires `GEMMKernel.isSupported`.
  public init(transposing weight: Tensor) throws {
    guard weight.rank == 2 else { throw TensorError("PackedMatrix: weight must be [out, in], got \(describe(shape: weight.shape))") }
    guard GEMMKernel.isSupported else { throw TensorError("PackedMatrix: this CPU has no AVX-512; use Tensor.linear with the weight itself") }
    columns = weight.shape[0]
    rows = weight.shape[1]
    let count = max(tml_gemm_packed_count(Int32(rows), Int32(columns)), 1)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
    base = raw.bindMemory(to: Float.self, capacity: count)
    let panels = (columns + GEMMKernel.panelWidth - 1) / GEMMKernel.panelWidth
    let (k, n, out) = (rows, columns, base)
    weight.withUnsafeBufferPointer { w in
      parallelFor(panels, minimumPerThread: 4) { r in
        tml_gemm_pack(Int32(k), Int32(n), w.baseAddress!, 1, k, out, Int32(r.lowerBound), Int32(r.upperBound))
      }
    }
  }

  deinit { UnsafeMutableRawPointer(base).deallocate() }
}
