import TMLTensor

/// Layers applied in order; children are named by index ("0", "1", …) like PyTorch's
/// `nn.Sequential` / `nn.ModuleList`, so `layers.3.weight` addresses the 4th module.
public final class Sequential: UnaryLayer {
  public let layers: [any UnaryLayer]
  public var isTraining = true

  public init(_ layers: [any UnaryLayer]) { self.layers = layers }

  public var children: [(String, any Module)] { layers.enumerated().map { (String($0.offset), $0.element) } }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    var h = x
    for layer in layers { h = try layer(h) }
    return h
  }
}
