import TMLNN
import TMLTensor

/// MaskNet (Wang et al. 2021) as the ranker's backbone or tower.
///
/// Parallel: every block sees (net = inputs, mask_input = inputs); outputs are
/// concatenated (`shared`), then the optional MLP. Serial: `net = block_i(net, inputs)`,
/// then the optional MLP. Names: `_mask_blocks.<i>.*`, `_dense_layers.layers.<j>.*`.
public final class MaskNet: Module {
  public struct BlockSpec: Equatable, Sendable {
    public var outputSize: Int
    /// `aggregation_size`, or `reduction_factor` × mask-input width.
    public var aggregationSize: Int?
    public var reductionFactor: Double?
    public var inputLayerNorm: Bool
    public init(outputSize: Int, aggregationSize: Int? = nil, reductionFactor: Double? = nil, inputLayerNorm: Bool = false) {
      self.outputSize = outputSize
      self.aggregationSize = aggregationSize
      self.reductionFactor = reductionFactor
      self.inputLayerNorm = inputLayerNorm
    }
  }

  public let blocks: [MaskBlock]
  public let mlp: RecapMLP?
  public let useParallel: Bool
  public let outFeatures: Int
  public let sharedSize: Int
  public var isTraining = true
  /// The blocks' first mask layers, fused into one GEMM at inference (parallel mode).
  private lazy var maskInputs = SiblingLinears(blocks.map(\.maskDown))

  public init(inFeatures: Int, blocks specs: [BlockSpec], useParallel: Bool, mlp: ((Int) throws -> RecapMLP)?,
              rng: inout RandomGenerator) throws {
    guard !specs.isEmpty else { throw TensorError("mask_net_config.mask_blocks must list at least one block") }
    var blocks: [MaskBlock] = []
    var width = inFeatures
    for (i, s) in specs.enumerated() {
      let aggregation: Int
      if let r = s.reductionFactor { aggregation = Int(Double(inFeatures) * r) }  // int(mask_input_dim · factor), as the original
      else if let a = s.aggregationSize { aggregation = a }
      else { throw TensorError("mask_net_config.mask_blocks[\(i)]: set one of reduction_factor or aggregation_size") }
      guard aggregation > 0 else { throw TensorError("mask_net_config.mask_blocks[\(i)]: aggregation size \(aggregation) must be positive") }
      let input = useParallel ? inFeatures : width
      blocks.append(MaskBlock(inputDim: input, maskInputDim: inFeatures, aggregationSize: aggregation,
                              outputSize: s.outputSize, inputLayerNorm: s.inputLayerNorm, rng: &rng))
      width = s.outputSize
    }
    self.blocks = blocks
    self.useParallel = useParallel
    sharedSize = useParallel ? specs.reduce(0) { $0 + $1.outputSize } : width
    self.mlp = try mlp?(sharedSize)
    outFeatures = self.mlp?.outFeatures ?? sharedSize
  }

  public var children: [(String, any Module)] {
    var c: [(String, any Module)] = [("_mask_blocks", ModuleList(blocks))]
    if let mlp { c.append(("_dense_layers", mlp)) }
    return c
  }

  public func forward(_ inputs: Tensor) throws -> (output: Tensor, shared: Tensor) {
    let shared: Tensor
    if useParallel {
      // ReLU(W₁·inputs + b₁) of every block: one fused GEMM where SiblingLinears fuses,
      // else per block with the ReLU as the GEMM's epilogue (a separate op under autograd).
      let hidden = maskInputs.fuses ? try maskInputs(inputs).map { $0.relu() }
        : try blocks.map { try $0.maskDown.inference(inputs, epilogue: .relu) }
      shared = try Tensor.concat(try zip(blocks, hidden).map { try $0(net: inputs, activatedMaskHidden: $1) }, axis: -1)
    } else {
      var net = inputs
      for b in blocks { net = try b(net: net, maskInput: inputs) }
      shared = net
    }
    return (try mlp?.output(shared) ?? shared, shared)
  }
}
