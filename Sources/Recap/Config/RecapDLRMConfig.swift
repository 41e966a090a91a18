import TMLTrain

/// `dlrm_config:` — the original's `DLRMConfig` (a bottom MLP over dense features and a
/// top MLP after the interaction). Named in the original's schema, not built by its model.
public struct RecapDLRMConfig: Codable, Equatable, Sendable {
  public var bottomMLP: RecapMLPConfig
  public var topMLP: RecapMLPConfig

  enum CodingKeys: String, CodingKey, CaseIterable { case bottomMLP = "bottom_mlp", topMLP = "top_mlp" }

  public init(bottomMLP: RecapMLPConfig, topMLP: RecapMLPConfig) {
    self.bottomMLP = bottomMLP
    self.topMLP = topMLP
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    bottomMLP = try c.decode(.bottomMLP)
    topMLP = try c.decode(.topMLP)
  }
}
