import Recap

extension ONNXGraphBuilder {
  /// A backbone or tower (`RankingBlock`): MLP, MaskNet or DCN. Another block type is an
  /// `ONNXExportError` naming its path and type.
  public func rankingBlock(_ x: String, _ block: any RankingBlock, prefix: String) throws -> String {
    switch block {
    case let m as RecapMLP: return try mlp(x, m, prefix: prefix)
    case let m as MaskNet: return try maskNet(x, m, prefix: prefix)
    case let d as DCN: return try dcn(x, d, prefix: prefix)
    default:
      throw ONNXExportError("ONNX export: \(prefix) is of type \(type(of: block)), which has no ONNX form (supported: mlp_config, mask_net_config, dcn_config)")
    }
  }
}
