import Foundation
import Recap
import TMLData
import TMLTensor
import TMLTrain

/// A Heavy Ranker trained by the demo: the `RecapRun` of its YAML config, the trained
/// model (eval mode), its held-out metrics (`<task>/auroc`, `<task>/rce`, …) and the
/// training-loss curve.
public final class TrainedRanker {
  public let variant: RankerVariant
  public let run: RecapRun
  public let model: MultiTaskRankingModel
  /// Metrics on the held-out impressions, keyed `<task>/<metric>` (RecapEvaluator).
  public let metrics: [String: Double]
  public let curve: [(step: Int, loss: Double)]
  public let configPath: String

  init(variant: RankerVariant, run: RecapRun, model: MultiTaskRankingModel, metrics: [String: Double],
       curve: [(step: Int, loss: Double)], configPath: String) {
    self.variant = variant
    self.run = run
    self.model = model
    self.metrics = metrics
    self.curve = curve
    self.configPath = configPath
  }

  /// Calibrated probabilities [rows × 10 heads] of a batch (eval mode, no gradients).
  func probabilities(_ batch: RecapBatch) throws -> [Float] {
    try noGrad { try RecapTrainingTask(model: model).forward(batch) }.calibratedProbabilities.scalars
  }

  /// Probabilities of every example of the test files, by impression id.
  func predictTest() throws -> [Int: [Float]] {
    guard let test = try run.validationData().first?.1 else { return [:] }
    let pipe = try run.pipeline(test, epochs: 1, shuffle: false)
    let heads = EngagementHead.allCases.count
    var out: [Int: [Float]] = [:]
    while let batch = try pipe.next() {
      let p = try probabilities(batch)
      guard let ids = batch.meta["meta__impression_id"] else { throw TrainError("test batch without meta__impression_id") }
      for (r, id) in ids.enumerated() { out[Int(id)] = Array(p[(r * heads)..<((r + 1) * heads)]) }
    }
    return out
  }
}

/// Trains one ranker variant from its YAML config with `RecapRun` (checkpoints,
/// `metrics.jsonl` and TensorBoard under `<out>/<variant>/`), then reloads the final
/// checkpoint for scoring.
enum RankerStage {
  static func train(_ file: RankerConfigFile, seed: UInt64, workerThreads: Int,
                    onEvent: @escaping (TrainingEvent) -> Void) throws -> TrainedRanker {
    let path = try file.write()
    let run = try RecapRun(configPath: path)
    run.seed = seed
    run.workerThreads = workerThreads
    try? FileManager.default.removeItem(at: run.saveDir)  // a fresh run, never a resume of an older demo
    var curve: [(Int, Double)] = []
    let results = try run.train(onEvent: { event in
      if case .logged(let step, let values) = event, let loss = values["loss"] { curve.append((step, loss)) }
      onEvent(event)
    })
    let (model, _) = try run.loadModel(checkpoint: run.saveDir)
    return TrainedRanker(variant: file.variant, run: run, model: model, metrics: results["test"]?.metrics ?? [:], curve: curve,
                         configPath: path)
  }
}
