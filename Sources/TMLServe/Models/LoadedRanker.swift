import Foundation
import Recap
import TMLData
import TMLNN
import TMLTensor

/// One loaded Heavy Ranker, read-only once built: the `RecapRun` of its config, the model
/// in eval mode, the `RecapBatchBuilder` that turns serialized tf.Examples into a batch
/// exactly as `tml recap predict` does (same schema, defaults, preprocessing), and the
/// version it reports (`<checkpoint dir>@step_<N>#<load number>`).
///
/// `score(_:)` is the forward pass of `RecapRun.predict`: per row and task the logit
/// z, p = σ(z) and the calibrated p·r / (1 − p + r·p). Call it from one thread at a time
/// (`RankBatcher` does): the first pass fills the layers' packed-weight caches.
///
///     let ranker = try LoadedRanker.load(configPath: "configs/recap/small.yaml", checkpoint: "runs/recap_small", loadNumber: 1)
public final class LoadedRanker: @unchecked Sendable {
  public let run: RecapRun
  public let model: MultiTaskRankingModel
  public let builder: RecapBatchBuilder
  /// JSON features → tf.Example against this ranker's segdense schema.
  public let encoder: FeatureEncoder
  public let checkpoint: String
  public let step: Int
  public let version: String
  public var taskNames: [String] { model.taskNames }

  /// The outputs of one forward pass over `rows` records (row-major rows × tasks), and
  /// the records the parser refused, by their index in the input.
  public struct Scores {
    public var logits: [Float]
    public var probabilities: [Float]
    public var calibrated: [Float]
    /// For each input record, its row in the outputs, or nil when it was refused.
    public var rowOfRecord: [Int?]
    /// Refused records: input index → the parser's message (feature, length, type).
    public var refused: [Int: String]
  }

  public init(run: RecapRun, model: MultiTaskRankingModel, checkpoint: String, step: Int, loadNumber: Int) throws {
    self.run = run
    self.model = model
    self.checkpoint = checkpoint
    self.step = step
    model.eval()
    encoder = FeatureEncoder(schema: run.schema)
    builder = try RecapBatchBuilder(schema: run.schema, config: run.trainData, baseDirectory: run.configURL.deletingLastPathComponent())
    version = "\(URL(fileURLWithPath: checkpoint).lastPathComponent)@step_\(step)#\(loadNumber)"
  }

  /// Loads the checkpoint `checkpoint` (a save dir: its newest step, or a `step_<N>`
  /// directory) of the config at `configPath`.
  public static func load(configPath: String, checkpoint: String, loadNumber: Int) throws -> LoadedRanker {
    let run = try RecapRun(configPath: configPath)
    let (model, step) = try run.loadModel(checkpoint: URL(fileURLWithPath: checkpoint))
    let dir = CheckpointManager(saveDir: URL(fileURLWithPath: checkpoint)).steps().last?.url.path ?? checkpoint
    return try LoadedRanker(run: run, model: model, checkpoint: dir, step: step, loadNumber: loadNumber)
  }

  /// Runs one forward pass (no gradients) over `records`; records that do not parse are
  /// left out and described in `refused` instead of failing the others.
  public func score(_ records: [RawRecord]) throws -> Scores {
    let (batch, skipped) = try builder.build(records, skippingBadRecords: true)
    var refused: [Int: String] = [:]
    for s in skipped {
      // The builder's message is "<file>: record <index>: <problem>"; keep the problem.
      let prefix = "\(s.file): record \(s.index): "
      refused[s.index] = s.message.hasPrefix(prefix) ? String(s.message.dropFirst(prefix.count)) : s.message
    }
    var rowOfRecord = [Int?](repeating: nil, count: records.count)
    var row = 0
    for r in records.indices where refused[records[r].index] == nil {
      rowOfRecord[r] = row
      row += 1
    }
    guard batch.size > 0 else { return Scores(logits: [], probabilities: [], calibrated: [], rowOfRecord: rowOfRecord, refused: refused) }
    let out = try noGrad { try RecapTrainingTask(model: model).forward(batch) }
    return Scores(logits: out.logits.scalars, probabilities: out.probabilities.scalars, calibrated: out.calibratedProbabilities.scalars,
                  rowOfRecord: rowOfRecord, refused: refused)
  }
}
