import CKernels
import Dispatch
import Foundation

/// SwiftTML's own single-precision GEMMs (Sources/CKernels/gemm_avx512.c and gemm_avx2.c),
/// used by `BLAS.gemm` on x86-64:
///
///     C = op(A)·op(B) (+ C when accumulating),  op = identity or transpose
///
/// A is read in place through strides; B is packed into column panels (32 columns for
/// AVX-512, 16 for AVX2), 512 rows of k at a time, into a per-thread buffer that stays in
/// L1/L2 while tiles of A sweep over it (8×32 tiles in 16 zmm accumulators, or 6×16 in
/// 12 ymm). Threads split the panels of C (or its rows when there are few panels); every
/// element of C is summed by one thread in a fixed k order, so results are identical for
/// any thread count.
///
/// Why: the OpenBLAS this machine's distribution ships is often limited to AVX2 kernels
/// on recent AMD CPUs (its core detection predates them, or `OPENBLAS_CORETYPE` pins it),
/// and MKL uses AVX2 on AMD; AVX-512 doubles the multiply-add width. The AVX2 kernel is
/// the fast path for x86-64 CPUs without AVX-512. Elsewhere (ARM) OpenBLAS / Accelerate
/// do all the work.
///
/// `SWIFTTML_GEMM=avx512|avx2|blas` in the environment picks the variant (default: the
/// best the CPU supports; an unsupported or unknown value is reported on stderr and the
/// best one is used).
public enum GEMMKernel {
  /// The implementations `BLAS.gemm` can route products to.
  public enum Variant: String, CaseIterable, Sendable {
    /// gemm_avx512.c: AVX-512 F/DQ/BW/VL and FMA.
    case avx512
    /// gemm_avx2.c: AVX2 and FMA.
    case avx2
    /// `cblas_sgemm` (OpenBLAS on Linux, Accelerate on macOS).
    case blas

    /// Whether this CPU can run it.
    public var isSupported: Bool {
      switch self {
      case .avx512: return GEMMKernel.hasAVX512
      case .avx2: return GEMMKernel.hasAVX2
      case .blas: return true
      }
    }

    /// Columns per packed panel of B (0 for BLAS, which packs internally).
    public var panelWidth: Int {
      switch self {
      case .avx512: return Int(TML_GEMM_NR)
      case .avx2: return Int(TML_GEMM_AVX2_NR)
      case .blas: return 0
      }
    }

    /// Rows of C per micro-tile; row splits across threads are multiples of it.
    var rowTile: Int { self == .avx2 ? 6 : 8 }

    /// A one-line description for benchmark headers.
    public var summary: String {
      switch self {
      case .avx512: return "SwiftTML AVX-512 kernel"
      case .avx2: return "SwiftTML AVX2/FMA kernel"
      case .blas:
        #if canImport(Accelerate)
        return "Accelerate"
        #else
        return "OpenBLAS"
        #endif
      }
    }
  }

  static let hasAVX512 = tml_gemm_available() != 0
  static let hasAVX2 = tml_gemm_avx2_available() != 0

  /// The fastest variant this CPU runs.
  public static let best: Variant = hasAVX512 ? .avx512 : hasAVX2 ? .avx2 : .blas

  /// Whether this CPU can run one of our kernels (AVX-512 or AVX2/FMA on x86-64).
  public static var isSupported: Bool { best != .blas }

  /// The variant asked for: `SWIFTTML_GEMM`, else `best`. Tests and benchmarks may set
  /// it; an unsupported one routes everything to BLAS (see `active`).
  nonisolated(unsafe) public static var variant: Variant = variant(
    fromEnvironment: ProcessInfo.processInfo.environment["SWIFTTML_GEMM"])

  /// The variant products actually go to: `variant` when the CPU supports it, else BLAS.
  public static var active: Variant { variant.isSupported ? variant : .blas }

  /// Whether `BLAS.gemm` uses one of our kernels. Setting it selects `best` or BLAS.
  public static var isEnabled: Bool {
    get { active != .blas }
    set { variant = newValue ? best : .blas }
  }

  /// `active != .blas`: whether products actually go to a kernel of ours.
  public static var isActive: Bool { active != .blas }

  /// Columns per packed panel of B in the active kernel.
  public static var panelWidth: Int { active.panelWidth }

  /// Parses `SWIFTTML_GEMM`: nil, "" or "auto" give `best`; an unknown name or one this
  /// CPU cannot run gives `best` and a line on stderr naming the variable and the choices.
  static func variant(fromEnvironment value: String?) -> Variant {
    guard let raw = value?.lowercased(), !raw.isEmpty, raw != "auto" else { return best }
    guard let v = Variant(rawValue: raw) else {
      warn("SWIFTTML_GEMM=\(raw) is not one of avx512, avx2, blas, auto; using \(best.rawValue)")
      return best
    }
    guard v.isSupported else {
      warn("SWIFTTML_GEMM=\(raw): this CPU cannot run the \(raw) kernel; using \(best.rawValue)")
      return best
    }
    return v
  }

  private static func warn(_ message: String) {
    fputs("warning: " + message + "\n", stderr)  // never traps, even on a closed or full stderr
  }

  /// Below this many rows of C, per-call packing of B costs more than it saves and
  /// `BLAS.gemm` stays with BLAS (a pre-packed B is used at any row count). Tests lower
  /// it to 1 to run every product through the kernel.
  nonisolated(unsafe) public static var minimumRowsForPacking = 16

  /// Work (m·n·k) under which one thread does the whole product.
  static let minimumParallelWork = 1 << 20

  static func handles(m: Int, n: Int, k: Int) -> Bool {
    isActive && m >= minimumRowsForPacking && n > 0 && k > 0 && max(m, n, k) <= Int(Int32.max)
  }

  /// `c = op(a)·op(b) (+ c if accumulate)` on row-major buffers, B packed block by block,
  /// by the active kernel (callers check `handles` first).
  static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    let (aRow, aCol) = transA ? (1, lda) : (lda, 1)
    let (bRow, bCol) = transB ? (1, ldb) : (ldb, 1)
    let kernel = active
    let slice = kernel == .avx2 ? tml_gemm_avx2_slice : tml_gemm_slice
    forEachSlice(kernel, m: m, n: n, k: k) { rows, panels in
      slice(Int32(m), Int32(n), Int32(k), a, aRow, aCol, b, bRow, bCol, accumulate ? 1 : 0, c, ldc,
            Int32(rows.lowerBound), Int32(rows.upperBound), Int32(panels.lowerBound), Int32(panels.upperBound))
    }
  }

  /// `c = op(a)·B (+ c if accumulate)` with B pre-packed, by the kernel that packed it.
  static func gemm(
    transA: Bool, m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedMatrix, accumulate: Bool,
    c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: LinearEpilogue = .none
  ) {
    let (n, k) = (packed.columns, packed.rows)
    let (aRow, aCol) = transA ? (1, lda) : (lda, 1)
    let slice = packed.variant == .avx2 ? tml_gemm_avx2_slice_packed : tml_gemm_slice_packed
    let width = packed.variant.panelWidth
    forEachSlice(packed.variant, m: m, n: n, k: k) { rows, panels in
      slice(Int32(m), Int32(n), Int32(k), a, aRow, aCol, packed.base, accumulate ? 1 : 0, c, ldc,
            Int32(rows.lowerBound), Int32(rows.upperBound), Int32(panels.lowerBound), Int32(panels.upperBound))
      epilogue.apply(c, ldc: ldc, rows: rows, columns: min(n, panels.lowerBound * width)..<min(n, panels.upperBound * width))
    }
  }

  /// Splits C into one (rows, panels) slice per thread: panels when there are enough of
  /// them, else rows in multiples of the kernel's row tile.
  static func forEachSlice(_ kernel: Variant, m: Int, n: Int, k: Int, _ body: (Range<Int>, Range<Int>) -> Void) {
    let width = kernel.panelWidth, tile = kernel.rowTile
    let panels = (n + width - 1) / width
    let threads = Double(m) * Double(n) * Double(k) < Double(minimumParallelWork) ? 1 : max(1, Parallelism.threadCount)
    if threads == 1 {
      body(0..<m, 0..<panels)
    } else if panels >= 2 * threads {
      DispatchQueue.concurrentPerform(iterations: threads) { t in
        let range = (panels * t / threads)..<(panels * (t + 1) / threads)
        if !range.isEmpty { body(0..<m, range) }
      }
    } else {
      let tiles = (m + tile - 1) / tile
      let parts = min(threads, tiles)
      DispatchQueue.concurrentPerform(iterations: parts) { t in
        let rows = min(m, tiles * t / parts * tile)..<min(m, tiles * (t + 1) / parts * tile)
        if !rows.isEmpty { body(rows, 0..<panels) }
      }
    }
  }
}
