import TMLNN
import TMLTensor

/// Position debiasing (`position_debias_config`; referenced by the original but its
/// module is missing from the released code, so this is SwiftTML's design):
///
///     p = clamp(discrete[:, position_feature_index], 0, max_position)
///     training: p ← max_position + 1 with probability drop_probability ("unknown")
///     out = E[p],  E: [max_position + 2, num_dims], E ~ N(0, 1)
///
/// The embedding is concatenated to the model input, so the towers can explain away the
/// position effect; at serving time (`position: nil`) every example uses the
/// "unknown" row. Names: `_embedding.weight`.
public final class PositionDebias: StochasticModule {
  public let embedding: Parameter
  public let maxPosition: Int
  public let dropProbability: Float
  public let featureIndex: Int
  public var isTraining = true
  /// The generator of the training-time drops to "unknown" (saved with checkpoints).
  public var randomStream: RandomGenerator
  /// Data-parallel: draw the global batch's drops, use this rank's rows (`ReplicaSlice`).
  public var replica: ReplicaSlice?

  public var outFeatures: Int { embedding.shape[1] }
  var unknownRow: Int { maxPosition + 1 }

  public init(maxPosition: Int, numDims: Int, dropProbability: Float, featureIndex: Int, rng: inout RandomGenerator) {
    embedding = Parameter(Tensor.normal([maxPosition + 2, numDims], using: &rng))
    self.maxPosition = maxPosition
    self.dropProbability = dropProbability
    self.featureIndex = featureIndex
    randomStream = RandomGenerator(seed: rng.next(), stream: 0xDEB1A5)
  }

  public var children: [(String, any Module)] { [("_embedding", EmbeddingHolder(embedding))] }

  final class EmbeddingHolder: Module {
    let weight: Parameter
    var isTraining = true
    init(_ w: Parameter) { weight = w }
    var parameters: [(String, Parameter)] { [("weight", weight)] }
  }

  /// Embeddings of the positions in column `featureIndex` of `discrete` ([B, D]), or of
  /// "unknown" for `batchSize` examples when `discrete` is nil.
  public func forward(discrete: IndexTensor?, batchSize: Int) throws -> Tensor {
    var rows = [Int](repeating: unknownRow, count: batchSize)
    if let d = discrete {
      guard d.shape.count == 2, featureIndex < d.shape[1] else {
        throw TensorError("position_debias_config.position_feature_index \(featureIndex) is outside the \(d.shape.last ?? 0) discrete features")
      }
      for r in 0..<batchSize { rows[r] = min(max(d.values[r * d.shape[1] + featureIndex], 0), maxPosition) }
      if isTraining {
        let (p, unknown) = (dropProbability, unknownRow)
        ReplicaSlice.draw(replica, draws: batchSize, from: &randomStream) { rng in
          for r in 0..<batchSize where rng.uniform() < p { rows[r] = unknown }
        }
      }
    }
    return try embedding.value.gatherRows(IndexTensor(rows))
  }
}
