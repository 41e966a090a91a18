import TMLTensor

/// MaskNet's MaskBlock (Wang et al. 2021, arXiv:2102.07619), as the Heavy Ranker uses it:
///
///     net  = LN_in(net)                                  (if input_layer_norm)
///     mask = W₂·ReLU(W₁·mask_input + b₁) + b₂            (instance-guided mask)
///     out  = LN(W_h·(net ⊙ mask) + b_h)
///
/// W₁: [aggregation, mask_input_dim], W₂: [input_dim, aggregation], W_h: [output, input_dim],
/// Xavier-uniform weights and zero biases. State names: `_input_layer_norm.*`,
/// `_mask_layer.0.*`, `_mask_layer.2.*`, `_hidden_layer.*`, `_layer_norm.*`.
public final class MaskBlock: Module {
  public let inputLayerNorm: LayerNorm?
  public let maskLayer: Sequential
  /// W₁ (mask_input → aggregation) and W₂ (aggregation → input) of `maskLayer`.
  public let maskDown: Linear
  public let maskUp: Linear
  public let hiddenLayer: Linear
  public let layerNorm: LayerNorm
  public var isTraining = true

  public init(inputDim: Int, maskInputDim: Int, aggregationSize: Int, outputSize: Int,
              inputLayerNorm: Bool = false, rng: inout RandomGenerator) {
    self.inputLayerNorm = inputLayerNorm ? LayerNorm(inputDim) : nil
    maskDown = Linear(maskInputDim, aggregationSize, initialization: .xavierUniform, rng: &rng)
    maskUp = Linear(aggregationSize, inputDim, initialization: .xavierUniform, rng: &rng)
    maskLayer = Sequential([maskDown, ReLU(), maskUp])
    hiddenLayer = Linear(inputDim, outputSize, initialization: .xavierUniform, rng: &rng)
    layerNorm = LayerNorm(outputSize)
  }

  public var children: [(String, any Module)] {
    var c: [(String, any Module)] = []
    if let inputLayerNorm { c.append(("_input_layer_norm", inputLayerNorm)) }
    c += [("_mask_layer", maskLayer), ("_hidden_layer", hiddenLayer), ("_layer_norm", layerNorm)]
    return c
  }

  public func callAsFunction(net: Tensor, maskInput: Tensor) throws -> Tensor {
    try self(net: net, maskHidden: try maskDown(maskInput))
  }

  /// The block given W₁·mask_input + b₁ already computed (several blocks sharing one
  /// mask input compute it together, see `SiblingLinears`).
  public func callAsFunction(net: Tensor, maskHidden: Tensor) throws -> Tensor {
    try self(net: net, activatedMaskHidden: maskHidden.relu())
  }

  /// The block given ReLU(W₁·mask_input + b₁) already computed (at inference the ReLU
  /// runs inside W₁'s GEMM: `maskDown.inference(_:epilogue: .relu)`).
  public func callAsFunction(net: Tensor, activatedMaskHidden: Tensor) throws -> Tensor {
    let x = try inputLayerNorm.map { try $0(net) } ?? net
    let masked = try maskUp.inference(activatedMaskHidden, epilogue: .multiplying(x))  // x ⊙ mask
    return try layerNorm(try hiddenLayer(masked))
  }
}
