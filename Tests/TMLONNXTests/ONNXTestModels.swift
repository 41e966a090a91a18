import Recap
import TMLNN
import TMLTensor

/// Small ranker specs that together use every layer the exporter emits, and models of
/// them with random running statistics (so BatchNorm is not the identity).
enum ONNXTestModels {
  static let tasks = ["recap.engagement.is_favorited", "recap.engagement.is_replied"]

  /// share_partial; DoubleNormLog with BatchNorm and an ε = 0 LayerNorm; two embeddings;
  /// position debiasing; a serial MaskNet backbone with input LayerNorms and an MLP; an
  /// MLP tower with BatchNorm and dropout, and a projected DCN tower with both MLPs; an
  /// affine map; calibration.
  static func everything() -> MultiTaskRankingModel.Spec {
    MultiTaskRankingModel.Spec(
      continuousFeatures: 12, binaryFeatures: 4, batchNorm: .init(affine: true, momentum: 0.01), clipMagnitude: 5,
      layerNorm: (0, true), userEmbeddingDim: 6, authorEmbeddingDim: 6,
      positionDebias: (maxPosition: 7, numDims: 3, dropProbability: 0.2, featureIndex: 3),
      multiTaskType: .sharePartial,
      backbone: .maskNet(blocks: [.init(outputSize: 8, aggregationSize: 10, inputLayerNorm: true),
                                  .init(outputSize: 6, reductionFactor: 0.5, inputLayerNorm: true)],
                         mlp: MLPSpec(layerSizes: [9], finalLayerActivation: true), useParallel: false),
      tasks: [
        .init(name: tasks[0], architecture: .mlp(MLPSpec(layerSizes: [8, 4, 1], batchNorm: .init(affine: false, momentum: 0.1), dropout: 0.1)),
              affineMap: (1.5, -0.25), posDownsamplingRate: 1, negDownsamplingRate: 0.05),
        .init(name: tasks[1], architecture: .dcn(polyDegree: 2, projectionDim: 3, parallelMLP: MLPSpec(layerSizes: [5]), useParallel: true,
                                                  outputMLP: MLPSpec(layerSizes: [4, 1], batchNorm: .init(affine: true, momentum: 0.1))),
              posDownsamplingRate: 0.9, negDownsamplingRate: 0.01),
      ])
  }

  /// share_all with a parallel MaskNet (the production shape) and full-rank DCN / MLP
  /// towers; no BatchNorm in the featurization, LayerNorm with ε > 0, three embeddings.
  static func parallel() -> MultiTaskRankingModel.Spec {
    MultiTaskRankingModel.Spec(
      continuousFeatures: 10, binaryFeatures: 3, clipMagnitude: 3, layerNorm: (1e-3, false),
      userEmbeddingDim: 4, userEngEmbeddingDim: 4, authorEmbeddingDim: 4,
      multiTaskType: .shareAll,
      backbone: .maskNet(blocks: [.init(outputSize: 8, aggregationSize: 12), .init(outputSize: 8, aggregationSize: 12),
                                  .init(outputSize: 4, aggregationSize: 6)],
                         mlp: MLPSpec(layerSizes: [16], finalLayerActivation: true), useParallel: true),
      tasks: [
        .init(name: tasks[0], architecture: .mlp(MLPSpec(layerSizes: [8, 4, 1], batchNorm: .init(affine: false, momentum: 0.1)))),
        .init(name: tasks[1], architecture: .dcn(polyDegree: 3, projectionDim: nil, parallelMLP: MLPSpec(layerSizes: [6, 1]),
                                                  useParallel: false, outputMLP: nil)),
      ])
  }

  /// share_none: the towers read the featurized input directly; position debiasing
  /// without a discrete input (every row uses the "unknown" position).
  static func towersOnly() -> MultiTaskRankingModel.Spec {
    MultiTaskRankingModel.Spec(
      continuousFeatures: 5, binaryFeatures: 2, batchNorm: .init(affine: false, momentum: 0.1), clipMagnitude: 5,
      positionDebias: (maxPosition: 4, numDims: 2, dropProbability: 0, featureIndex: 0),
      multiTaskType: .shareNone, backbone: nil,
      tasks: [.init(name: tasks[0], architecture: .mlp(MLPSpec(layerSizes: [4, 1], batchNorm: .init(affine: true, momentum: 0.1))))])
  }

  /// An eval-mode model of `spec` whose BatchNorm running statistics, affine norms and
  /// calibration are random (seeded), not their initial 0/1 values.
  static func model(_ spec: MultiTaskRankingModel.Spec, seed: UInt64) throws -> MultiTaskRankingModel {
    let model = try MultiTaskRankingModel(spec, seed: seed)
    randomizeStatistics(model, seed: seed)
    return model
  }

  /// Random running statistics and norm weights (seeded), then eval mode.
  static func randomizeStatistics(_ model: MultiTaskRankingModel, seed: UInt64) {
    var rng = RandomGenerator(seed: seed &+ 100)
    for (name, b) in model.namedBuffers() {
      if name.hasSuffix("running_mean") { b.value = Tensor.uniform(b.value.shape, low: -0.5, high: 0.5, using: &rng) }
      if name.hasSuffix("running_var") { b.value = Tensor.uniform(b.value.shape, low: 0.3, high: 2, using: &rng) }
    }
    for (name, p) in model.namedParameters() where name.contains("norm") || name.contains("_before_concat_layers") {
      p.value = Tensor.uniform(p.value.shape, low: 0.5, high: 1.5, using: &rng)
    }
    model.eval()
  }
}
