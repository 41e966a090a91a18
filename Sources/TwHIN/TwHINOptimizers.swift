import TMLNN
import TMLTensor

/// The optimizer of one embedding table, applied fused in backward to the rows a batch
/// touched (torchrec's optimizer in backward; DESIGN §4):
///
///     sgd              W[r] ← W[r] − lr·g[r]
///     adagrad          G[r] ← G[r] + g[r]²;           W[r] ← W[r] − lr·g[r]/(√G[r] + ε)
///     rowWiseAdagrad   G_r  ← G_r + mean_j g[r, j]²;  W[r] ← W[r] − lr·g[r]/(√G_r + ε)
///     adam             lazy Adam on the touched rows (`SparseAdam`)
///
/// `lr` follows the schedule at the trainer's step.
///
///     let spec = TableOptimizerSpec.rowWiseAdagrad(.constant(0.1))
public enum TableOptimizerSpec: Equatable, Sendable {
  case sgd(LearningRateSchedule)
  case adagrad(LearningRateSchedule, eps: Float = 1e-10)
  case rowWiseAdagrad(LearningRateSchedule, eps: Float = 1e-8)
  case adam(LearningRateSchedule, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8)

  public var schedule: LearningRateSchedule {
    switch self {
    case .sgd(let s), .adagrad(let s, _), .rowWiseAdagrad(let s, _), .adam(let s, _, _, _): return s
    }
  }

  /// Bytes of optimizer state for a table of `rows` × `dim` floats.
  public func stateBytes(rows: Int, dim: Int) -> Int {
    switch self {
    case .sgd: return 0
    case .adagrad: return rows * dim * 4
    case .rowWiseAdagrad: return rows * 4
    case .adam: return 2 * rows * dim * 4
    }
  }

  /// A fresh fused optimizer for one table.
  public func make(table: String) throws -> any SparseRowOptimizer {
    try schedule.validate("table \"\(table)\" optimizer learning rate")
    switch self {
    case .sgd(let s): return SparseSGD(learningRate: s)
    case .adagrad(let s, let eps): return SparseAdagrad(learningRate: s, eps: eps)
    case .rowWiseAdagrad(let s, let eps): return RowWiseAdagrad(learningRate: s, eps: eps)
    case .adam(let s, let b1, let b2, let eps): return SparseAdam(learningRate: s, beta1: b1, beta2: b2, eps: eps)
    }
  }
}

/// The dense optimizer of the relation translations `all_trans_embs`
/// (the original's `model.translation_optimizer`), with PyTorch's update rules:
///
///     sgd       b ← μ·b + g (b = g at first);  t ← t − lr·b
///     adagrad   G ← G + g²;                    t ← t − lr·g/(√G + ε)
///     adam      bias-corrected m, v;           t ← t − lr·m̂/(√v̂ + ε)
///
///     let spec = TranslationOptimizerSpec.sgd(.constant(0.05))
public enum TranslationOptimizerSpec: Equatable, Sendable {
  case sgd(LearningRateSchedule, momentum: Float = 0)
  case adagrad(LearningRateSchedule, eps: Float = 1e-10)
  case adam(LearningRateSchedule, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-7)

  /// An optimizer over the one parameter `all_trans_embs`.
  public func make(translations: Parameter) throws -> Optimizer {
    let schedule: LearningRateSchedule
    switch self {
    case .sgd(let s, _), .adagrad(let s, _), .adam(let s, _, _, _): schedule = s
    }
    let groups = [ParameterGroup(name: "translations", parameters: [("all_trans_embs", translations)], schedule: schedule)]
    switch self {
    case .sgd(_, let mu): return try SGD(groups: groups, momentum: mu)
    case .adagrad(_, let eps): return try Adagrad(groups: groups, eps: eps)
    case .adam(_, let b1, let b2, let eps): return try Adam(groups: groups, beta1: b1, beta2: b2, eps: eps)
    }
  }
}
