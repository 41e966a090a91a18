import TMLTrain

/// `mask_net_config:` — MaskNet (the original's `MaskNetConfig`): mask blocks run in
/// parallel on the same input (outputs concatenated) or serially, then an optional MLP.
///
///     mask_net_config:
///       mask_blocks: [{output_size: 1024, aggregation_size: 1024, input_layer_norm: false}]
///       mlp: {layer_sizes: [2048], final_layer_activation: true}
///       use_parallel: true
public struct RecapMaskNetConfig: Codable, Equatable, Sendable {
  public var maskBlocks: [MaskBlock]
  public var mlp: RecapMLPConfig?
  public var useParallel: Bool

  /// One mask block: the mask's hidden width is `aggregation_size`, or
  /// `reduction_factor` × the mask input's width (exactly one of the two).
  public struct MaskBlock: Codable, Equatable, Sendable {
    public var outputSize: Int
    public var reductionFactor: Double?
    public var aggregationSize: Int?
    public var inputLayerNorm: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
      case outputSize = "output_size", reductionFactor = "reduction_factor", aggregationSize = "aggregation_size"
      case inputLayerNorm = "input_layer_norm"
    }

    public init(outputSize: Int, reductionFactor: Double? = nil, aggregationSize: Int? = nil, inputLayerNorm: Bool) {
      self.outputSize = outputSize
      self.reductionFactor = reductionFactor
      self.aggregationSize = aggregationSize
      self.inputLayerNorm = inputLayerNorm
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      try c.exactlyOne(of: [.reductionFactor, .aggregationSize])
      outputSize = try c.decode(.outputSize)
      reductionFactor = try c.decodeIfPresent(.reductionFactor, .positive)
      aggregationSize = try c.decodeIfPresent(.aggregationSize, .positive)
      inputLayerNorm = try c.decode(.inputLayerNorm)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case maskBlocks = "mask_blocks", mlp, useParallel = "use_parallel"
  }

  public init(maskBlocks: [MaskBlock], mlp: RecapMLPConfig? = nil, useParallel: Bool = false) {
    self.maskBlocks = maskBlocks
    self.mlp = mlp
    self.useParallel = useParallel
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    maskBlocks = try c.decode(.maskBlocks)
    mlp = try c.decodeIfPresent(.mlp)
    useParallel = try c.decode(.useParallel, default: false)
  }
}
