import TMLData
import TMLDistributed
import TMLMetrics
import TMLTensor

/// Evaluation of the ranker on one named dataset: eval-mode forward over up to
/// `maxSteps` batches, accumulating per-task AUROC, RCE, NRCE, CTR, pCTR and count (and
/// per stratum when stratifiers are configured). Metrics use the model's probabilities
/// and the batch's labels and weights of the model's tasks (matched by name); only
/// `evaluationTasks` are reported when given.
///
/// With a `communicator` of several ranks, each rank evaluates its own batches and the
/// metrics are computed over all ranks' predictions (gathered in rank order) — AUROC of
/// the union, not a mean of per-rank AUROCs; the loss is the mean over all ranks' examples.
public struct RecapEvaluator {
  public let task: RecapTrainingTask
  public var stratifiers: [StratifierConfig]
  public var evaluationTasks: [String]
  public var communicator: any Communicator = SingleProcessCommunicator()

  public init(task: RecapTrainingTask, stratifiers: [StratifierConfig] = [], evaluationTasks: [String] = []) {
    self.task = task
    self.stratifiers = stratifiers
    self.evaluationTasks = evaluationTasks
  }

  public struct Result {
    public var metrics: [String: Double]
    public var examples: Int
    /// The multi-task loss (mean over tasks of w·BCE) averaged over every example evaluated —
    /// not a mean of batch means, so a short last batch, or N ranks' different batching, weighs
    /// each example once.
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
    let gather = communicator.isDistributed
    var probabilities: [Float] = [], allLabels: [Float] = [], allWeights: [Float] = [], discreteValues: [Int64] = []
    var discreteWidth = 0
    // Row-sharded id tables look up collectively: every rank runs a forward per round, one
    // without a batch takes part with no ids, until no rank has a batch.
    let lockstep = gather && (model.largeEmbeddings?.isSharded ?? false)
    var finished = false
    while true {
      var next_: RecapBatch? = nil
      if !finished, maxSteps.map({ batches < $0 }) ?? true { next_ = try next() }
      finished = next_ == nil
      if lockstep, try communicator.allReduce(Int64(finished ? 0 : 1), .max) > 0, finished {
        try noGrad { try model.largeEmbeddings?.participate() }
        continue
      }
      guard let batch = next_ else { break }
      let out = try noGrad { try task.forward(batch) }
      let (labels, weights) = try task.loss.targets(batch)
      // The batch's mean loss × its rows: the sum over examples, whatever the batching.
      lossSum += Double(try noGrad { try task.loss(out.logits, labels: labels, weights: weights) }.total.item ?? .nan) * Double(batch.size)
      let discrete = batch.discrete
      if gather {
        probabilities += out.probabilities.scalars
        allLabels += labels.scalars
        allWeights += weights.scalars
        if !stratifiers.isEmpty, let discrete {
          discreteWidth = discrete.shape.last ?? 0
          discreteValues += discrete.values.map { Int64($0) }
        }
        examples += batch.size
        batches += 1
        progress(batches)
        continue
      }
      try metrics.append(probabilities: out.probabilities.scalars, labels: labels.scalars, weights: weights.scalars,
                         discreteFeatures: stratifiers.isEmpty ? nil : discrete?.values,
                         discreteWidth: stratifiers.isEmpty ? 0 : (discrete?.shape.last ?? 0))
      examples += batch.size
      batches += 1
      progress(batches)
    }
    if gather {
      let p = try communicator.allGatherV(probabilities), y = try communicator.allGatherV(allLabels)
      let w = try communicator.allGatherV(allWeights), d = try communicator.allGatherV(discreteValues)
      let width = Int(try communicator.allReduce(Int64(discreteWidth), .max))
      for r in 0..<communicator.worldSize where !p[r].isEmpty {
        try metrics.append(probabilities: p[r], labels: y[r], weights: w[r],
                           discreteFeatures: stratifiers.isEmpty ? nil : d[r].map { Int($0) }, discreteWidth: stratifiers.isEmpty ? 0 : width)
      }
      var sums = [lossSum, Double(batches), Double(examples)]
      try communicator.allReduce(&sums, .sum)
      (lossSum, batches, examples) = (sums[0], Int(sums[1]), Int(sums[2]))
    }
    var values = metrics.compute().dictionary
    if !evaluationTasks.isEmpty {
      values = values.filter { key, _ in evaluationTasks.contains { key.hasPrefix($0 + "/") } }
    }
    return Result(metrics: values, examples: examples, loss: examples > 0 ? lossSum / Double(examples) : .nan)
  }
}
