import TMLData
import TMLMetrics
import TMLTensor

/// Evaluation of the ranker on one named dataset: eval-mode forward over up to
/// `maxSteps` batches, accumulating per-task AUROC, RCE, NRCE, CTR, pCTR and count (and
/// per stratum when stratifiers are configured). Metrics use the model's probabilities
/// and the batch's labels and weights of the model's tasks (matched by name); only
/// `evaluationTasks` are reported when given.
public struct RecapEvaluator {
  public let task: RecapTrainingTask
  public var stratifiers: [StratifierConfig]
  public var evaluationTasks: [String]

  public init(task: RecapTrainingTask, stratifiers: [StratifierConfig] = [], evaluationTasks: [String] = []) {
    self.task = task
    self.stratifiers = stratifiers
    self.evaluationTasks = evaluationTasks
  }

  public struct Result {
    public var metrics: [String: Double]
    public var examples: Int
    public var loss: Double
    /// Records the pipeline skipped for data errors, per file (`ignore_data_errors`; nil without).
    public var skippedRecords: SkippedRecords? = nil
  }

  /// Evaluates the batches `next` returns (at most `maxSteps`); `progress` gets the
  /// number of batches done after each one.
  public func evaluate(maxSteps: Int?, progress: (Int) -> Void = { _ in }, next: () throws -> RecapBatch?) throws -> Result {
    let model = task.model
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    var metrics = try MultiTaskMetrics(taskNames: model.taskNames, stratifiers: stratifiers)
    var examples = 0, lossSum = 0.0, batches = 0
    while maxSteps.map({ batches < $0 }) ?? true, let batch = try next() {
      let out = try noGrad { try task.forward(batch) }
      let (labels, weights) = try task.loss.targets(batch)
      lossSum += Double(try noGrad { try task.loss(out.logits, labels: labels, weights: weights) }.total.item ?? .nan)
      let discrete = batch.discrete
      try metrics.append(probabilities: out.probabilities.scalars, labels: labels.scalars, weights: weights.scalars,
                         discreteFeatures: stratifiers.isEmpty ? nil : discrete?.values,
                         discreteWidth: stratifiers.isEmpty ? 0 : (discrete?.shape.last ?? 0))
      examples += batch.size
      batches += 1
      progress(batches)
    }
    var values = metrics.compute().dictionary
    if !evaluationTasks.isEmpty {
      values = values.filter { key, _ in evaluationTasks.contains { key.hasPrefix($0 + "/") } }
    }
    return Result(metrics: values, examples: examples, loss: batches > 0 ? lossSum / Double(batches) : .nan)
  }
}
