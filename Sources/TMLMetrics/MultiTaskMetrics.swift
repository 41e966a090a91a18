/// Per-task (and per-stratum) binary-classification metrics of a multi-task model such
/// as the Heavy Ranker: one `StratifiedBinaryClassificationMetrics` per task, fed from
/// the model's `[B, T]` outputs.
///
///     probabilities, labels : [B, T] row-major (task t of example b at b·T + t)
///     weights               : [B, T] (per task) or [B] (per example), optional
///     discreteFeatures      : [B, discreteWidth] row-major, needed iff stratifiers exist
///
/// Metric names are `"<task>/<metric>"` and `"<task>/<name>_<value>/<metric>"`, e.g.
/// `"is_favorited/auroc"`, `"is_favorited/level_9/rce"`.
///
///     var m = try MultiTaskMetrics(taskNames: ["fav", "reply"])
///     try m.append(probabilities: p, labels: y, weights: w)
///     let logged = m.compute().dictionary   // ["fav/auroc": …, "reply/ctr": …]
public struct MultiTaskMetrics {
  public let taskNames: [String]
  public private(set) var tasks: [StratifiedBinaryClassificationMetrics]

  public init(
    taskNames: [String], stratifiers: [StratifierConfig] = [], labelThreshold: Double = 0.5, epsilon: Double = RCE.defaultEpsilon
  ) throws {
    if taskNames.isEmpty { throw MetricsError.invalidArgument("MultiTaskMetrics needs at least one task name") }
    if Set(taskNames).count != taskNames.count {
      throw MetricsError.invalidArgument("task names \(taskNames) repeat a name; each task needs its own")
    }
    self.taskNames = taskNames
    let one = try StratifiedBinaryClassificationMetrics(stratifiers: stratifiers, labelThreshold: labelThreshold, epsilon: epsilon)
    tasks = Array(repeating: one, count: taskNames.count)
  }

  /// Appends one batch (shapes above). All tasks are validated before any is updated.
  public mutating func append(
    probabilities: [Float], labels: [Float], weights: [Float]? = nil, discreteFeatures: [Int]? = nil, discreteWidth: Int = 0
  ) throws {
    let t = taskNames.count
    if probabilities.count % t != 0 {
      throw MetricsError.invalidArgument(
        "probabilities hold \(probabilities.count) values, not a multiple of the \(t) tasks; pass [batch, tasks] row-major")
    }
    let b = probabilities.count / t
    try InputValidation.checkLength("labels", labels.count, expected: b * t)
    if let w = weights, w.count != b * t && w.count != b {
      throw MetricsError.invalidArgument("weights hold \(w.count) values; expected \(b * t) ([batch, tasks]) or \(b) ([batch])")
    }
    var columns: [(p: [Float], y: [Float], w: [Float]?)] = []
    for task in 0..<t {
      let p = (0..<b).map { probabilities[$0 * t + task] }
      let y = (0..<b).map { labels[$0 * t + task] }
      let w = weights.map { w in w.count == b ? w : (0..<b).map { w[$0 * t + task] } }
      do {
        try InputValidation.checkBatch(scores: p, scoreName: "probabilities", labels: y, weights: w, allowInfiniteScores: false)
      } catch let MetricsError.nonFinite(what, row, value) {
        throw MetricsError.nonFinite(what: "\(what) of task '\(taskNames[task])'", index: row, value: value)
      } catch let MetricsError.negativeWeight(what, row, value) {
        throw MetricsError.negativeWeight(what: "\(what) of task '\(taskNames[task])'", index: row, value: value)
      }
      columns.append((p, y, w))
    }
    let rows = try tasks[0].strataRows(count: b, discreteFeatures, discreteWidth)
    for task in 0..<t { tasks[task].appendValidated(columns[task].p, columns[task].y, columns[task].w, rows: rows) }
  }

  /// Metrics of every task, keyed by task name.
  public func compute() -> MultiTaskResult {
    var results: [String: StratifiedResult] = [:]
    for (name, m) in zip(taskNames, tasks) { results[name] = m.compute() }
    return MultiTaskResult(tasks: results)
  }

  public mutating func reset() {
    for k in tasks.indices { tasks[k].reset() }
  }
}

/// Metrics of every task of a `MultiTaskMetrics`.
///
///     result.tasks["fav"]?.overall.auroc;  result.dictionary["fav/level_9/nrce"]
public struct MultiTaskResult: Equatable, Sendable {
  public var tasks: [String: StratifiedResult]

  /// Flat names `"<task>/<metric>"` and `"<task>/<stratum>/<metric>"`, ready to log.
  public var dictionary: [String: Double] {
    var d: [String: Double] = [:]
    for (task, r) in tasks { d.merge(r.dictionary(prefix: task + "/")) { a, _ in a } }
    return d
  }
}
