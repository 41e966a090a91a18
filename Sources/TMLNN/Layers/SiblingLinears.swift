import TMLTensor

/// Several `Linear` layers that read the same input, evaluated as one GEMM:
///
///     [y₁ | y₂ | … | y_k] = x · [W₁; W₂; …; W_k]ᵀ + [b₁ | … | b_k]
///
/// One larger GEMM packs the input once and runs at a better shape than k small ones
/// (the ranker's 4 mask-layer inputs and 10 tower inputs). Inference only: the
/// concatenated weights are cached and rebuilt whenever a layer's parameters change
/// (`Parameter.version`); under autograd the layers are evaluated one by one.
public final class SiblingLinears {
  public let layers: [Linear]
  private var cachedVersions: [Int] = []
  private var weight: Tensor?
  private var bias: Tensor?

  public init(_ layers: [Linear]) { self.layers = layers }

  private var versions: [Int] { layers.flatMap { [$0.weight.version, $0.bias?.version ?? -1] } }

  /// `layers.map { $0(x) }`, fused when autograd is off (fp32 only: in bf16 each layer
  /// uses its own bf16 weight).
  /// Whether a call now runs one fused GEMM (no autograd, fp32, no packed kernel — the
  /// packed kernel runs each layer at full speed already — and compatible layers).
  public var fuses: Bool {
    guard !GradMode.isEnabled, !GEMMKernel.isActive, Precision.inference == .fp32, layers.count > 1,
          let inF = layers.first?.inFeatures else { return false }
    return layers.allSatisfy { $0.inFeatures == inF && ($0.bias != nil) == (layers[0].bias != nil) }
  }

  public func callAsFunction(_ x: Tensor) throws -> [Tensor] {
    guard fuses else { return try layers.map { try $0(x) } }
    let v = versions
    if weight == nil || v != cachedVersions {
      weight = try Tensor.concat(layers.map { $0.weight.value.detached() }, axis: 0)
      bias = layers[0].bias == nil ? nil : try Tensor.concat(layers.compactMap { $0.bias?.value.detached() }, axis: 0)
      cachedVersions = v
    }
    let y = try Tensor.linear(x, weight: weight!, bias: bias)
    return try y.split(layers.map(\.outFeatures), axis: -1)
  }
}
