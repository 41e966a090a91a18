import Foundation
import TMLTensor

/// Fully connected layer, y = x·Wᵀ + b, with W [out, in] and b [out] (PyTorch `nn.Linear`).
///
/// Initialisation: `.pytorchDefault` draws W and b from U(−1/√in, 1/√in) (what
/// `kaiming_uniform_(a=√5)` amounts to); `.xavierUniform` draws W from U(−a, a) with
/// a = √(6/(in+out)) and sets b = 0 (the Heavy Ranker's `_init_weights`).
///
///     let fc = Linear(2776, 1024, initialization: .xavierUniform, rng: &rng)
///     let y = try fc(x)        // [B, 2776] → [B, 1024]
public final class Linear: UnaryLayer {
  public enum Initialization: Sendable { case pytorchDefault, xavierUniform }

  public let weight: Parameter
  public let bias: Parameter?
  /// In eval mode without autograd the weight is used pre-packed (`GEMMKernel`), or in
  /// bf16 when `Precision.inference` is `.bf16`; leaving eval mode drops the packed copies.
  public var isTraining = true { didSet { if isTraining { packedCache.clear() } } }
  private let packedCache = PackedWeightCache()
  public var inFeatures: Int { weight.shape[1] }
  public var outFeatures: Int { weight.shape[0] }

  public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
              initialization: Initialization = .pytorchDefault, rng: inout RandomGenerator) {
    switch initialization {
    case .pytorchDefault:
      let bound = inFeatures > 0 ? 1 / Float(inFeatures).squareRoot() : 0
      weight = Parameter(Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, using: &rng))
      self.bias = bias ? Parameter(Tensor.uniform([outFeatures], low: -bound, high: bound, using: &rng)) : nil
    case .xavierUniform:
      let a = (6 / Float(inFeatures + outFeatures)).squareRoot()
      weight = Parameter(Tensor.uniform([outFeatures, inFeatures], low: -a, high: a, using: &rng))
      self.bias = bias ? Parameter(Tensor.zeros([outFeatures])) : nil
    }
  }

  /// A layer with PyTorch's default initialisation from a fixed seed (to be filled by
  /// `loadStateDict`, or when reproducibility matters more than independent draws).
  public convenience init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
    var rng = RandomGenerator(seed: 0)
    self.init(inFeatures, outFeatures, bias: bias, rng: &rng)
  }

  public var parameters: [(String, Parameter)] {
    bias.map { [("weight", weight), ("bias", $0)] } ?? [("weight", weight)]
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor { try inference(x, epilogue: .none) }

  /// `epilogue(self(x))`, e.g. Linear → ReLU as one op: in eval mode without autograd the
  /// epilogue runs inside the GEMM on each output tile (`LinearEpilogue`); otherwise it
  /// is the separate, differentiable op.
  public func inference(_ x: Tensor, epilogue: LinearEpilogue) throws -> Tensor {
    if !isTraining, !GradMode.isEnabled {
      if Precision.inference == .bf16 {
        return try Tensor.linear(x, bf16Weight: packedCache.bf16Matrix(for: weight), bias: bias?.value, epilogue: epilogue)
      }
      if GEMMKernel.isActive {
        return try Tensor.linear(x, packedWeight: packedCache.matrix(for: weight), bias: bias?.value, epilogue: epilogue)
      }
    }
    return try epilogue.applied(to: try Tensor.linear(x, weight: weight.value, bias: bias?.value))
  }
}
