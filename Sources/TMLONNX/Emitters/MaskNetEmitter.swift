import Recap
import TMLNN

extension ONNXGraphBuilder {
  /// One `MaskBlock` (`<prefix>` = `…_mask_blocks.<i>`):
  ///
  ///     net  = LayerNormalization(net)                      (if input_layer_norm)
  ///     mask = Gemm(Relu(Gemm(mask_input, W₁, b₁)), W₂, b₂)
  ///     out  = LayerNormalization(Gemm(net ⊙ mask, W_h, b_h))
  public func maskBlock(net: String, maskInput: String, _ block: MaskBlock, prefix: String) -> String {
    let x = block.inputLayerNorm.map { layerNorm(net, $0, prefix: "\(prefix)._input_layer_norm") } ?? net
    let hidden = relu(linear(maskInput, block.maskDown, prefix: "\(prefix)._mask_layer.0"), named: "\(prefix)._mask_layer.1")
    let mask = linear(hidden, block.maskUp, prefix: "\(prefix)._mask_layer.2")
    let masked = node("Mul", [x, mask], named: "\(prefix)/masked")
    return layerNorm(linear(masked, block.hiddenLayer, prefix: "\(prefix)._hidden_layer"), block.layerNorm, prefix: "\(prefix)._layer_norm")
  }

  /// MaskNet: parallel — every block reads (inputs, inputs) and their outputs are
  /// concatenated (`Concat`, axis 1); serial — `net = block_i(net, inputs)`; then the
  /// optional MLP `<prefix>._dense_layers`.
  public func maskNet(_ x: String, _ net: MaskNet, prefix: String) throws -> String {
    var shared: String
    if net.useParallel {
      let outs = net.blocks.enumerated().map { i, b in maskBlock(net: x, maskInput: x, b, prefix: "\(prefix)._mask_blocks.\(i)") }
      shared = outs.count == 1 ? outs[0] : node("Concat", outs, named: "\(prefix)/shared", attributes: [.int("axis", 1)])
    } else {
      shared = x
      for (i, b) in net.blocks.enumerated() { shared = maskBlock(net: shared, maskInput: x, b, prefix: "\(prefix)._mask_blocks.\(i)") }
    }
    return try net.mlp.map { try mlp(shared, $0, prefix: "\(prefix)._dense_layers") } ?? shared
  }
}
