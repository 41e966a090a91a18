import TMLNN
import TMLTensor

/// A block that maps the ranker's dense input to features: the backbone or a task tower.
public protocol RankingBlock: Module {
  var outFeatures: Int { get }
  func output(_ x: Tensor) throws -> Tensor
}

extension RecapMLP: RankingBlock { public func output(_ x: Tensor) throws -> Tensor { try output(fromModule: 0, x) } }
extension MaskNet: RankingBlock { public func output(_ x: Tensor) throws -> Tensor { try forward(x).output } }
extension DCN: RankingBlock { public func output(_ x: Tensor) throws -> Tensor { try forward(x) } }

/// An MLP's shape (`mlp_config`).
public struct MLPSpec: Equatable, Sendable {
  public var layerSizes: [Int]
  public var batchNorm: RecapMLP.BatchNormSpec?
  public var dropout: Float?
  public var finalLayerActivation: Bool
  public init(layerSizes: [Int], batchNorm: RecapMLP.BatchNormSpec? = nil, dropout: Float? = nil, finalLayerActivation: Bool = false) {
    self.layerSizes = layerSizes
    self.batchNorm = batchNorm
    self.dropout = dropout
    self.finalLayerActivation = finalLayerActivation
  }

  func build(_ inFeatures: Int, _ rng: inout RandomGenerator) throws -> RecapMLP {
    try RecapMLP(inFeatures: inFeatures, layerSizes: layerSizes, batchNorm: batchNorm, dropout: dropout,
                 finalLayerActivation: finalLayerActivation, rng: &rng)
  }
}

/// One of the original's `TaskModel` architectures (`mlp_config | dcn_config | mask_net_config`).
public enum ArchitectureSpec: Equatable, Sendable {
  case mlp(MLPSpec)
  case maskNet(blocks: [MaskNet.BlockSpec], mlp: MLPSpec?, useParallel: Bool)
  case dcn(polyDegree: Int, projectionDim: Int?, parallelMLP: MLPSpec?, useParallel: Bool, outputMLP: MLPSpec?)

  public func build(inFeatures: Int, rng: inout RandomGenerator) throws -> any RankingBlock {
    switch self {
    case .mlp(let m):
      return try m.build(inFeatures, &rng)
    case .maskNet(let blocks, let mlp, let useParallel):
      var sub = RandomGenerator(seed: rng.next(), stream: 1)
      return try MaskNet(inFeatures: inFeatures, blocks: blocks, useParallel: useParallel,
                         mlp: mlp.map { spec in { width in try spec.build(width, &sub) } }, rng: &rng)
    case .dcn(let degree, let projection, let parallel, let useParallel, let output):
      var sub = RandomGenerator(seed: rng.next(), stream: 2)
      return try DCN(inFeatures: inFeatures, polyDegree: degree, projectionDim: projection, useParallel: useParallel,
                     parallelMLP: parallel.map { spec in { width in try spec.build(width, &sub) } },
                     outputMLP: output.map { spec in { width in try spec.build(width, &sub) } }, rng: &rng)
    }
  }
}
