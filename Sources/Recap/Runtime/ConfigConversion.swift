import Foundation
import TMLData
import TMLMetrics
import TMLNN
import TMLTrain

/// Turns the YAML config types into the runtime types of the model, data and optimizer.
public enum RecapConfigConversion {
  public static func schedule(_ lr: LearningRateConfig) -> LearningRateSchedule {
    if let c = lr.constant { return .constant(Float(c)) }
    if let p = lr.piecewiseConstant {
      return .piecewiseConstant(boundaries: p.learningRateBoundaries, values: p.learningRateValues.map { Float($0) })
    }
    if let r = lr.linearRampToConstant { return .linearRampToConstant(learningRate: Float(r.learningRate), rampSteps: r.numRampSteps) }
    if let r = lr.linearRampToCosine {
      return .linearRampToCosine(learningRate: Float(r.learningRate), finalLearningRate: Float(r.finalLearningRate),
                                 rampSteps: r.numRampSteps, finalSteps: r.finalNumSteps)
    }
    return .constant(0)  // unreachable: the loader enforces exactly one schedule
  }

  static func mlp(_ c: RecapMLPConfig) -> MLPSpec {
    MLPSpec(layerSizes: c.layerSizes, batchNorm: c.batchNorm.map { .init(affine: $0.affine, momentum: Float($0.momentum)) },
            dropout: c.dropout.map { Float($0.rate) }, finalLayerActivation: c.finalLayerActivation)
  }

  static func architecture(_ c: RecapTaskModelConfig, at path: String) throws -> ArchitectureSpec {
    if let m = c.mlpConfig { return .mlp(mlp(m)) }
    if let m = c.maskNetConfig {
      return .maskNet(blocks: m.maskBlocks.map { .init(outputSize: $0.outputSize, aggregationSize: $0.aggregationSize,
                                                        reductionFactor: $0.reductionFactor, inputLayerNorm: $0.inputLayerNorm) },
                      mlp: m.mlp.map(mlp), useParallel: m.useParallel)
    }
    if let d = c.dcnConfig {
      return .dcn(polyDegree: d.polyDegree, projectionDim: d.projectionDim, parallelMLP: d.parallelMLP.map(mlp),
                  useParallel: d.useParallel, outputMLP: d.outputMLP.map(mlp))
    }
    throw TrainError("\(path): dlrm_config is not supported (the original raises NotImplementedError for it too); use mlp_config, mask_net_config or dcn_config")
  }

  /// The runtime data config of one dataset; relative schema and mask paths resolve
  /// against `configDirectory`.
  public static func data(_ d: RecapDatasetConfig, name: String, configDirectory: URL) throws -> RecapDataConfig {
    let dated: DatedInputs?
    if let e = d.explicitDatetimeInputs {
      dated = try DatedInputs(dataRoot: e.dataRoot, end: e.endDatetime, count: e.hours, missingTolerance: e.numMissingHoursTol,
                              granularity: .hourly, key: "\(name).explicit_datetime_inputs")
    } else if let e = d.explicitDateInputs {
      dated = try DatedInputs(dataRoot: e.dataRoot, end: e.endDate, count: e.days, missingTolerance: e.numMissingDaysTol,
                              granularity: .daily, key: "\(name).explicit_date_inputs")
    } else {
      dated = nil
    }
    guard let inputs = d.inputs ?? dated?.summary else {
      throw TrainError("\(name): set one of inputs, explicit_datetime_inputs or explicit_date_inputs")
    }
    func resolve(_ p: String?) -> String? {
      guard let p else { return nil }
      return p.hasPrefix("/") ? p : configDirectory.appendingPathComponent(p).path
    }
    var preprocess: PreprocessConfig? = nil
    if let p = d.preprocess {
      preprocess = PreprocessConfig(
        truncateAndSlice: p.truncateAndSlice.map {
          .init(continuousFeatureTruncation: $0.continuousFeatureTruncation, binaryFeatureTruncation: $0.binaryFeatureTruncation,
                continuousFeatureMaskPath: resolve($0.continuousFeatureMaskPath), binaryFeatureMaskPath: resolve($0.binaryFeatureMaskPath))
        },
        downcast: p.downcast?.features.map { f in
          Dictionary(uniqueKeysWithValues: f.map { ($0.key, PreprocessConfig.DownCastType(rawValue: $0.value.rawValue) ?? .float32) })
        },
        rectifyLabels: p.rectifyLabels.map {
          .init(labelRectificationWindowInHours: $0.labelRectificationWindowInHours, servedTimestampField: $0.servedTimestampField,
                impressedTimestampField: $0.impressedTimestampField, labelToEngagedTimestampField: $0.labelToEngagedTimestampField.dictionary)
        },
        extractFeatures: p.extractFeatures.map { $0.extractFeatureTable.map { .init(name: $0.name, sourceTensor: $0.sourceTensor, index: $0.index) } },
        downsampleNegatives: try p.downsampleNegatives.map {
          guard let m = $0.batchMultiplier else { throw TrainError("\(name).preprocess.downsample_negatives: batch_multiplier is required") }
          return .init(batchMultiplier: m, engagementsList: $0.engagementsList, numEngagements: $0.numEngagements)
        })
    }
    return RecapDataConfig(
      inputs: inputs, globalBatchSize: d.globalBatchSize,
      segDenseSchema: .init(schemaPath: resolve(d.segDenseSchema.schemaPath) ?? d.segDenseSchema.schemaPath,
                            features: d.segDenseSchema.features, renamedFeatures: d.segDenseSchema.renamedFeatures.dictionary),
      tasks: d.tasks.map { ($0.key, .init(posDownsamplingRate: $0.value.posDownsamplingRate, negDownsamplingRate: $0.value.negDownsamplingRate)) },
      evaluationTasks: d.evaluationTasks, preprocess: preprocess, ignoreDataErrors: d.ignoreDataErrors,
      examplesShuffleBufferSize: d.examplesShuffleBufferSize, datedInputs: dated)
  }

  /// Width of a dense input after truncation and masks.
  static func width(_ full: Int, truncation: Int?, maskPath: String?) throws -> Int {
    if let m = maskPath { return try NpyArray(contentsOf: URL(fileURLWithPath: m)).nonzeroIndices.count }
    return min(full, truncation ?? full)
  }

  /// The model spec: input widths from the schema and the train data config, towers
  /// and rates from the model config.
  public static func modelSpec(_ config: RecapConfig, data: RecapDataConfig, schema: SegdenseSchema) throws -> MultiTaskRankingModel.Spec {
    let renamed = data.segDenseSchema.renamedFeatures
    func length(_ input: String) -> Int? { renamed[input].flatMap { schema[$0]?.length } }
    let t = data.preprocess?.truncateAndSlice
    let continuous = try width(length("continuous") ?? 0, truncation: t?.continuousFeatureTruncation, maskPath: t?.continuousFeatureMaskPath)
    let binary = try width(length("binary") ?? 0, truncation: t?.binaryFeatureTruncation, maskPath: t?.binaryFeatureMaskPath)
    let m = config.model
    let (large, small) = try idEmbeddingTables(m, data: data)
    guard let dnl = m.featurizationConfig?.doubleNormLogConfig else {
      throw TrainError("model.featurization_config.double_norm_log_config is required (the original's only featurization)")
    }
    if let ln = dnl.layerNormConfig, ln.center != ln.scale {
      throw TrainError("model.featurization_config.double_norm_log_config.layer_norm_config: center and scale must match (PyTorch LayerNorm), got \(ln.center) and \(ln.scale)")
    }
    let tasks = try m.tasks.map { name, tower -> MultiTaskRankingModel.TaskSpec in
      let rates = data.tasks.first { $0.name == name }?.data ?? .init()
      return .init(name: name, architecture: try architecture(tower, at: "model.tasks[\"\(name)\"]"),
                   affineMap: tower.affineMap.map { (Float($0.scale), Float($0.bias)) }, posWeight: Float(tower.posWeight),
                   posDownsamplingRate: rates.posDownsamplingRate, negDownsamplingRate: rates.negDownsamplingRate)
    }
    return MultiTaskRankingModel.Spec(
      continuousFeatures: continuous, binaryFeatures: binary,
      batchNorm: dnl.batchNormConfig.map { .init(affine: $0.affine, momentum: Float($0.momentum)) },
      clipMagnitude: Float(dnl.clipMagnitude),
      layerNorm: dnl.layerNormConfig.map { (Float($0.epsilon), $0.center) },
      userEmbeddingDim: length("user_embedding"), userEngEmbeddingDim: length("user_eng_embedding"),
      authorEmbeddingDim: length("author_embedding"),
      positionDebias: m.positionDebiasConfig.map { ($0.maxPosition, $0.numDims, Float($0.dropProbability), $0.positionFeatureIndex) },
      multiTaskType: MultiTaskRankingModel.MultiTaskType(rawValue: m.multiTaskType.rawValue) ?? .shareNone,
      backbone: try m.backbone.map { try architecture($0, at: "model.backbone") },
      tasks: tasks, largeEmbeddings: large.tables, largeEmbeddingLearningRate: large.learningRate, smallEmbeddings: small)
  }

  /// The id-embedding tables of `large_embeddings` (each reads the feature named like
  /// the table, as the original's `feature_names=[table.name]`) and `small_embeddings`.
  static func idEmbeddingTables(_ m: RecapModelConfig, data: RecapDataConfig) throws
    -> (large: (tables: [IdEmbeddingTableSpec], learningRate: LearningRateSchedule), small: [IdEmbeddingTableSpec]) {
    var large: [IdEmbeddingTableSpec] = []
    var learningRate = LearningRateSchedule.constant(0)
    var seen = Set<String>()
    if let l = m.largeEmbeddings {
      let renamed = data.segDenseSchema.renamedFeatures
      for (i, t) in l.tables.enumerated() {
        let key = "model.large_embeddings.tables[\(i)] (\(t.name))"
        guard seen.insert(t.name).inserted else { throw TrainError("\(key): a second table named \(t.name); table names must be unique") }
        if t.pretrained != nil || t.vocab != nil {
          throw TrainError("\(key): pretrained and vocab are not supported (they need the original's external large_embeddings package); remove them and feed ids already in 0..<num_embeddings")
        }
        guard renamed[t.name] != nil || data.segDenseSchema.features.contains(t.name) else {
          throw TrainError("\(key): the table reads the feature \(t.name), which train_data.seg_dense_schema neither renames (renamed_features.\(t.name)) nor lists in features")
        }
        for (source, input) in [("meta__user_id", "user_embedding"), ("meta__user_eng_id", "user_eng_embedding"), ("meta__author_id", "author_embedding")]
        where t.name == source && renamed[input] != nil {
          throw TrainError("\(key): renamed_features has both \(input) and the id table \(source); only one source of this embedding is supported (as in the original)")
        }
        large.append(IdEmbeddingTableSpec(name: t.name, numEmbeddings: t.numEmbeddings, embeddingDim: t.embeddingDim))
      }
      learningRate = l.optimizer.learningRate.map(schedule) ?? .constant(Float(l.optimizer.initLearningRate))
    }
    var small: [IdEmbeddingTableSpec] = []
    for (i, t) in (m.smallEmbeddings?.tables ?? []).enumerated() {
      guard seen.insert(t.name).inserted else {
        throw TrainError("model.small_embeddings.tables[\(i)] (\(t.name)): a second table named \(t.name); table names must be unique")
      }
      guard data.segDenseSchema.renamedFeatures["discrete"] != nil else {
        throw TrainError("model.small_embeddings.tables[\(i)] (\(t.name)): small tables read the discrete features; map renamed_features.discrete")
      }
      small.append(IdEmbeddingTableSpec(name: t.name, numEmbeddings: t.numEmbeddings, embeddingDim: t.embeddingDim, discreteIndex: t.index))
    }
    return ((large, learningRate), small)
  }

  public static func stratifiers(_ config: RecapConfig) -> [StratifierConfig] {
    (config.model.stratifiers ?? []).map { StratifierConfig(name: $0.name, index: $0.index, value: $0.value) }
  }

  /// The optimizer of the config over the model's parameter groups.
  public static func optimizer(_ config: RecapConfig, model: MultiTaskRankingModel) throws -> Optimizer {
    let o = config.optimizer
    var groups: [ParameterGroup]
    if let mt = o.multiTaskLearningRates {
      var towers: [String: LearningRateSchedule] = [:]
      for (task, lr) in mt.towerLearningRates { towers[task] = schedule(lr) }
      groups = try RecapOptimizer.groups(for: model, towerSchedules: towers,
                                         backbone: mt.backboneLearningRate.map(schedule) ?? .constant(0))
    } else if let single = o.singleTaskLearningRate {
      groups = [ParameterGroup(name: "all", parameters: model.namedParameters(), schedule: schedule(single))]
    } else {
      throw TrainError("optimizer: set multi_task_learning_rates or single_task_learning_rate")
    }
    // The large_embeddings tables are updated in backward by their own SGD.
    groups = groups.map { g in
      var g = g
      g.parameters = g.parameters.filter { !$0.0.hasPrefix("embeddings.ebc.") }
      return g
    }
    if let a = o.adam { return try Adam(groups: groups, beta1: Float(a.beta1), beta2: Float(a.beta2), eps: Float(a.epsilon)) }
    if let s = o.sgd { return try SGD(groups: groups, momentum: Float(s.momentum)) }
    if let a = o.adagrad { return try Adagrad(groups: groups, eps: Float(a.epsilon)) }
    throw TrainError("optimizer: set one of adam, sgd or adagrad")
  }
}
