/// The arithmetic of eval-mode `Linear` layers (and so of a model's inference).
///
/// - `fp32`: single precision throughout (the default; the parity tests' numbers).
/// - `bf16`: each weight is stored once in bfloat16 and each layer input is rounded to
///   bfloat16 (round to nearest, ties to even); products are summed in fp32. On a CPU
///   with AVX-512 BF16 (`BF16PackedMatrix.instructionsAvailable`) the products run on
///   VDPBF16PS (Sources/CKernels/gemm_bf16.c); elsewhere the same bf16-rounded operands
///   go through the fp32 GEMM, so results agree up to the order of the fp32 sums.
///
/// The setting is process-wide (`Precision.inference`): `tml recap predict|eval
/// --precision bf16` sets it before the model runs. Training and anything under autograd
/// ignore it.
public enum Precision: String, CaseIterable, Sendable {
  case fp32, bf16

  /// The precision eval-mode `Linear` layers compute in. Set it before inference, not
  /// while another thread runs a model.
  nonisolated(unsafe) public static var inference: Precision = .fp32
}
