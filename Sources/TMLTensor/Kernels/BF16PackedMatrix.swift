import CKernels
import Foundation

/// A layer weight W [n, k] held in bfloat16 for inference as B = Wᵀ (k×n), the operand of
/// `Tensor.linear(_:bf16Weight:bias:)`:
///
///     y = bf16(x)·bf16(W)ᵀ + b,   products exact, sums in fp32
///
/// With AVX-512 BF16 it is packed for VDPBF16PS (32-column panels of adjacent-k pairs,
/// Sources/CKernels/include/tml_gemm_bf16.h), half the bytes of the fp32 packed weight.
/// Without it, the fallback keeps bf16(W) widened to fp32 and rounds each input to bf16
/// before the fp32 GEMM: the same operands, so the same numbers up to fp32 summation order.
public final class BF16PackedMatrix: @unchecked Sendable {
  /// k, the shared dimension.
  public let rows: Int
  /// n, the output columns.
  public let columns: Int
  /// Whether products run on VDPBF16PS (else the fp32 fallback).
  public let usesBF16Instructions: Bool
  let packed: UnsafeMutablePointer<UInt16>?
  let roundedWeight: Tensor?

  /// Whether this CPU (and OS) runs AVX-512 BF16.
  public static let instructionsAvailable = tml_gemm_bf16_available() != 0

  /// Rounds W [n, k] to bf16: packed for VDPBF16PS when `useInstructions` (default: when
  /// the CPU has them; asking for them on a CPU without is an error), else the fallback.
  public init(transposing weight: Tensor, useInstructions: Bool = BF16PackedMatrix.instructionsAvailable) throws {
    guard weight.rank == 2 else { throw TensorError("BF16PackedMatrix: weight must be [out, in], got \(describe(shape: weight.shape))") }
    guard !useInstructions || Self.instructionsAvailable else {
      throw TensorError("BF16PackedMatrix: this CPU has no AVX-512 BF16 (avx512_bf16); use the fp32 fallback (useInstructions: false)")
    }
    columns = weight.shape[0]
    rows = weight.shape[1]
    usesBF16Instructions = useInstructions
    let w = weight.detached()
    if useInstructions {
      let count = max(tml_gemm_bf16_packed_count(Int32(rows), Int32(columns)), 1)
      let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<UInt16>.stride, alignment: 64)
      let out = raw.bindMemory(to: UInt16.self, capacity: count)
      let panels = (columns + Int(TML_GEMM_BF16_NR) - 1) / Int(TML_GEMM_BF16_NR)
      let (k, n) = (rows, columns)
      parallelFor(panels, minimumPerThread: 4) { r in
        tml_gemm_bf16_pack(Int32(k), Int32(n), w.base, 1, k, out, Int32(r.lowerBound), Int32(r.upperBound))
      }
      packed = out
      roundedWeight = nil
    } else {
      let r = try Tensor(allocatingShape: weight.shape)
      tml_round_to_bf16(w.base, r.base, weight.count)
      packed = nil
      roundedWeight = r
    }
  }

  deinit { packed.map { UnsafeMutableRawPointer($0).deallocate() } }
}

/// Columns per packed bf16 panel (TML_GEMM_BF16_NR).
let TMLGEMMBF16PanelWidth = Int(TML_GEMM_BF16_NR)

extension Tensor {
  /// y = x·Wᵀ + b in bf16 (see `BF16PackedMatrix`): inference only, like
  /// `linear(_:packedWeight:bias:)` (an error if x records gradients).
  /// `epilogue` is applied to each output tile right after the GEMM wrote it.
  public static func linear(_ x: Tensor, bf16Weight w: BF16PackedMatrix, bias: Tensor?,
                            epilogue: LinearEpilogue = .none) throws -> Tensor {
    guard !(GradMode.isEnabled && x.requiresGrad) else {
      throw TensorError("linear: a bf16 weight is for inference; call it inside noGrad { } (the input records gradients)")
    }
    if let weight = w.roundedWeight {
      guard x.rank >= 1, x.shape.last == w.rows else {
        throw TensorError("linear: input of shape \(describe(shape: x.shape)) does not match bf16 weight [out=\(w.columns), in=\(w.rows)]; the last input dimension must be \(w.rows)")
      }
      let xr = try Tensor(allocatingShape: x.shape)
      tml_round_to_bf16(x.detached().base, xr.base, x.count)
      let y = try noGrad { try Tensor.linear(xr, weight: weight, bias: bias?.detached()) }
      try epilogue.validate(outputShape: y.shape)
      epilogue.apply(y.base, rows: y.count / max(w.columns, 1), columns: w.columns)
      return y
    }
    let (out, m) = try linearOutputStartingAtBias(x, outFeatures: w.columns, inFeatures: w.rows, bias: bias, weightName: "bf16 weight")
    try epilogue.validate(outputShape: out.shape)
    guard w.rows > 0, m > 0, w.columns > 0, let packed = w.packed else {
      epilogue.apply(out.base, rows: m, columns: w.columns)
      return out
    }
    let (n, k, a, c) = (w.columns, w.rows, x.base, out.base)
    let accumulate: Int32 = bias != nil ? 1 : 0
    OpProfiler.measure(BLAS.gemmProfileKey(false, true, m, n, k) + " bf16",
                       flops: 2 * Double(m) * Double(n) * Double(k)) {
      GEMMKernel.forEachSlice(.avx512, m: m, n: n, k: k) { rows, panels in
        tml_gemm_bf16_slice_packed(Int32(m), Int32(n), Int32(k), a, k, 1, packed, accumulate, c, n,
                                   Int32(rows.lowerBound), Int32(rows.upperBound),
                                   Int32(panels.lowerBound), Int32(panels.upperBound))
        epilogue.apply(c, ldc: n, rows: rows, columns: min(n, panels.lowerBound * TMLGEMMBF16PanelWidth)..<min(n, panels.upperBound * TMLGEMMBF16PanelWidth))
      }
    }
    if OpProfiler.isEnabled { OpProfiler.lap("fwd linear") }
    return out
  }
}
