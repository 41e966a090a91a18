import Foundation
import TMLTrain

/// `model.embeddings.tables[i].optimizer:` — the fused optimizer of one table: the
/// original's `OptimizerConfig` (exactly one of `sgd`, `adagrad`, `adam`, plus an
/// optional `learning_rate` schedule) and SwiftTML's `rowwise_adagrad`.
///
/// The original hands the table's `torch.optim` class to torchrec's
/// `apply_optimizer_in_backward`, which runs FBGEMM's fused kernel for it
/// (`optimizer_type_to_emb_opt_type`):
///
///     sgd              torch.optim.SGD      → EXACT_SGD               → `SparseSGD` (momentum must be 0)
///     adagrad          torch.optim.Adagrad  → EXACT_ADAGRAD           → `SparseAdagrad` (state [rows, dim])
///     adam             torch.optim.Adam     → ADAM                    → `SparseAdam` (lazy; state 2·[rows, dim])
///     rowwise_adagrad  (torchrec RowWiseAdagrad → EXACT_ROWWISE_ADAGRAD) → `RowWiseAdagrad` (state [rows])
///
/// `rowwise_adagrad` keeps one accumulator per row, 1/dim of Adagrad's memory: the one to
/// use for large tables.
///
///     optimizer:
///       rowwise_adagrad: {lr: 0.05}
///       learning_rate: {linear_ramp_to_constant: {learning_rate: 0.05, num_ramp_steps: 100}}
public struct TwHINTableOptimizerConfig: Codable, Equatable, Sendable {
  public var learningRate: LearningRateConfig?
  public var sgd: OptimizerConfig.SGD?
  public var adagrad: OptimizerConfig.Adagrad?
  public var adam: OptimizerConfig.Adam?
  public var rowwiseAdagrad: OptimizerConfig.Adagrad?

  enum CodingKeys: String, CodingKey, CaseIterable {
    case learningRate = "learning_rate", adam, sgd, adagrad, rowwiseAdagrad = "rowwise_adagrad"
  }

  public init(learningRate: LearningRateConfig? = nil, sgd: OptimizerConfig.SGD? = nil, adagrad: OptimizerConfig.Adagrad? = nil,
              adam: OptimizerConfig.Adam? = nil, rowwiseAdagrad: OptimizerConfig.Adagrad? = nil) {
    self.learningRate = learningRate
    self.sgd = sgd
    self.adagrad = adagrad
    self.adam = adam
    self.rowwiseAdagrad = rowwiseAdagrad
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    try c.exactlyOne(of: [.adam, .sgd, .adagrad, .rowwiseAdagrad])
    learningRate = try c.decodeIfPresent(.learningRate)
    sgd = try c.decodeIfPresent(.sgd)
    adagrad = try c.decodeIfPresent(.adagrad)
    adam = try c.decodeIfPresent(.adam)
    rowwiseAdagrad = try c.decodeIfPresent(.rowwiseAdagrad)
    if let s = sgd, s.momentum != 0 {
      throw ConfigError(.invalidValue, path: c.codingPath.map(ConfigPathComponent.init) + [.field("sgd"), .field("momentum")],
                        problem: "momentum \(s.momentum) is not supported for embedding tables (FBGEMM's fused EXACT_SGD has none)",
                        fix: "Remove momentum, or use adagrad / rowwise_adagrad for the table.")
    }
  }

  /// The base learning rate of the chosen algorithm.
  var algorithmLR: Double { sgd?.lr ?? adagrad?.lr ?? adam?.lr ?? rowwiseAdagrad?.lr ?? 0 }
}
