import TMLTensor

/// Layer normalisation over the last dimension (PyTorch `nn.LayerNorm(d, eps,
/// elementwise_affine)`): y = (x − μ)/√(σ² + ε)·w + b with the biased variance;
/// w = 1, b = 0 at init. See `Tensor.layerNorm` for the ε = 0 guard.
public final class LayerNorm: UnaryLayer {
  public let weight: Parameter?
  public let bias: Parameter?
  public let eps: Float
  public let dim: Int
  public var isTraining = true

  public init(_ dim: Int, eps: Float = 1e-5, affine: Bool = true) {
    self.dim = dim
    self.eps = eps
    weight = affine ? Parameter(Tensor.ones([dim])) : nil
    bias = affine ? Parameter(Tensor.zeros([dim])) : nil
  }

  public var parameters: [(String, Parameter)] {
    guard let weight, let bias else { return [] }
    return [("weight", weight), ("bias", bias)]
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try Tensor.layerNorm(x, weight: weight?.value, bias: bias?.value, eps: eps)
  }
}
