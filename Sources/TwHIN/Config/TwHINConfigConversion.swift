import Foundation
import TMLNN
import TMLTrain

/// From the YAML config types to the runtime types: schema, optimizers, schedules.
///
/// Learning rates: a section's `learning_rate` schedule when given, else a constant
/// at the algorithm's `lr` (the original's `_lr_from_config`). Unlike the original,
/// whose scheduler is commented out (`scheduler = None`, so only `lr` ever applies),
/// the schedule is followed at every step.
extension TwHINConfig {
  /// The validated graph schema of `model`.
  public func graphSchema() throws -> GraphSchema {
    try GraphSchema(
      tables: model.embeddings.tables.map { TableSpec(name: $0.name, numEmbeddings: $0.numEmbeddings) },
      relations: model.relations.map { RelationSpec(name: $0.name, lhs: $0.lhs, rhs: $0.rhs, operator: $0.operator.relationOperator) })
  }

  /// The shared embedding dimension of the tables.
  public var embeddingDim: Int { model.embeddings.tables.first?.embeddingDim ?? 0 }

  /// One fused optimizer spec per table, in table order.
  public func tableOptimizers() -> [TableOptimizerSpec] { model.embeddings.tables.map { $0.optimizer.spec } }

  public func translationOptimizer() -> TranslationOptimizerSpec { model.translationOptimizer.translationSpec }
}

extension TwHINOperator {
  /// The runtime operator of this config value.
  public var relationOperator: RelationOperator {
    switch self {
    case .translation: .translation
    case .diagonal: .diagonal
    case .complex: .complex
    }
  }
}

extension LearningRateConfig {
  /// The schedule this config describes.
  public var schedule: LearningRateSchedule {
    if let c = constant { return .constant(Float(c)) }
    if let p = piecewiseConstant {
      return .piecewiseConstant(boundaries: p.learningRateBoundaries, values: p.learningRateValues.map { Float($0) })
    }
    if let r = linearRampToConstant { return .linearRampToConstant(learningRate: Float(r.learningRate), rampSteps: r.numRampSteps) }
    if let r = linearRampToCosine {
      return .linearRampToCosine(learningRate: Float(r.learningRate), finalLearningRate: Float(r.finalLearningRate),
                                 rampSteps: r.numRampSteps, finalSteps: r.finalNumSteps)
    }
    return .constant(0)  // unreachable: decoding enforces exactly one schedule
  }
}

/// Adagrad's ε: the original's default 0 makes 0/0 for an element whose gradient and
/// accumulator are both still 0; SwiftTML uses at least 1e-10 (PyTorch's default).
func adagradEpsilon(_ eps: Double) -> Float { max(Float(eps), 1e-10) }

extension TwHINTableOptimizerConfig {
  public var schedule: LearningRateSchedule { learningRate?.schedule ?? .constant(Float(algorithmLR)) }

  public var spec: TableOptimizerSpec {
    if let a = adagrad { return .adagrad(schedule, eps: adagradEpsilon(a.eps)) }
    if let a = rowwiseAdagrad { return .rowWiseAdagrad(schedule, eps: adagradEpsilon(a.eps)) }
    if let a = adam { return .adam(schedule, beta1: Float(a.betas[0]), beta2: Float(a.betas[1]), eps: Float(a.eps)) }
    return .sgd(schedule)
  }
}

extension OptimizerConfig {
  public var schedule: LearningRateSchedule {
    learningRate?.schedule ?? .constant(Float(sgd?.lr ?? adagrad?.lr ?? adam?.lr ?? 0))
  }

  /// The translations' dense optimizer (PyTorch SGD / Adagrad / Adam).
  public var translationSpec: TranslationOptimizerSpec {
    if let s = sgd { return .sgd(schedule, momentum: Float(s.momentum)) }
    if let a = adagrad { return .adagrad(schedule, eps: adagradEpsilon(a.eps)) }
    if let a = adam { return .adam(schedule, beta1: Float(a.betas[0]), beta2: Float(a.betas[1]), eps: Float(a.eps)) }
    return .sgd(schedule)
  }
}
