import TMLTrain

/// `dcn_config:` — a cross network v2 (the original's `DcnConfig`): `poly_degree` cross
/// layers (each low-rank with `projection_dim` when set), stacked or in parallel with an
/// optional MLP, then an optional output MLP.
public struct RecapDCNConfig: Codable, Equatable, Sendable {
  public var polyDegree: Int
  public var projectionDim: Int?
  /// The MLP beside (parallel) or after (stacked) the cross layers; `nil`: cross layers only.
  public var parallelMLP: RecapMLPConfig?
  public var useParallel: Bool
  public var outputMLP: RecapMLPConfig?

  enum CodingKeys: String, CodingKey, CaseIterable {
    case polyDegree = "poly_degree", projectionDim = "projection_dim", parallelMLP = "parallel_mlp"
    case useParallel = "use_parallel", outputMLP = "output_mlp"
  }

  public init(polyDegree: Int, projectionDim: Int? = nil, parallelMLP: RecapMLPConfig? = nil, useParallel: Bool = true,
              outputMLP: RecapMLPConfig? = nil) {
    self.polyDegree = polyDegree
    self.projectionDim = projectionDim
    self.parallelMLP = parallelMLP
    self.useParallel = useParallel
    self.outputMLP = outputMLP
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    polyDegree = try c.decode(.polyDegree, .positive)
    projectionDim = try c.decodeIfPresent(.projectionDim, .positive)
    parallelMLP = try c.decodeIfPresent(.parallelMLP)
    useParallel = try c.decode(.useParallel, default: true)
    outputMLP = try c.decodeIfPresent(.outputMLP)
  }
}
