import Foundation
import Recap
import SwiftProtobuf
import TMLData
import TMLTensor
import TwHIN

/// The whole MovieLens feed — TwHIN retrieves, the Heavy Ranker re-ranks — against the
/// popularity and BPR baselines on one time split (`tml data movielens-feed`):
///
///     outer = FeedStage(log)              TwHIN on the training ratings; each test user's top n
///                                         candidates at their split time (evaluated)
///     inner = FeedStage(outer.visible)    the same one level down, inside the training ratings:
///                                         each user's last 20 % of *training* ratings held out
///     ranker: trained on inner's retrieval-aware examples (heads is_liked, is_watched),
///             scores outer's candidates; each test user's list = candidates by is_liked
///
/// Nothing of the evaluated held-out ratings reaches training: the ranker's labels come from
/// the inner split, its features from ratings before each split time, TwHIN and BPR see the
/// training ratings only. With `validationOnly` the evaluated log is the training part of
/// `log` (its own last 20 % per user become the "test"), so options can be tuned without the
/// test ratings ever being read. Files under `directory`:
///
///     examples/train/part-0.tfrecord.gz   inner candidates (shuffled), features + labels
///     examples/test/part-0.tfrecord.gz    outer candidates
///     segdense.json, feed_ranker.yaml     the ranker's schema and config; feed_ranker/ its run
public enum MovieLensFeed {
  public static let continuous = "movielens_feed_cont__segdense_vals"
  public static let binary = "movielens_feed_binary__segdense_vals"
  public static let heads = ["is_liked", "is_watched"]

  /// The command's options: cut-off k, candidates per user, seed, the split evaluated,
  /// TwHIN's and BPR's settings, the ranker's steps / batch / Adam learning rate (chosen on
  /// ml-100k's validation split, docs/recipes/movielens.md §5).
  public struct Options: Equatable, Sendable {
    public var k = 10
    public var candidates = 200
    public var seed: UInt64 = 0
    public var validationOnly = false
    public var twhin = FeedTwHINOptions()
    public var rankerSteps = 3000
    public var rankerBatchSize = 256
    public var rankerLearningRate = 0.001
    public var bprDim = 64, bprEpochs = 30
    public var bprLearningRate: Float = 0.05, bprLambda: Float = 0.01
    public var workerThreads = 1
    public init() {}
  }

  /// One method's Recall@k / NDCG@k and the seconds it took (training included).
  public struct Row: Sendable {
    public var name: String
    public var result: TopKResult
    public var seconds: Double
  }

  /// Every method's metrics on the evaluated split, the example counts, TwHIN's candidate
  /// recall, the ranker's own metrics and the wall time of each step.
  public struct Result: Sendable {
    /// popularity, BPR, TwHIN, feed — in that order.
    public var rows: [Row]
    /// "test", or "validation" with `validationOnly`.
    public var split: String
    public var trainExamples: Int, trainPositives: Int, testExamples: Int
    /// Share of the evaluated positives among the candidates (the re-ranker's ceiling).
    public var candidateRecall: Double
    /// The ranker's metrics on the evaluated candidates (`is_liked/auroc`, …).
    public var rankerMetrics: [String: Double]
    /// Wall seconds of each step, in order.
    public var steps: [(name: String, seconds: Double)]
  }

  public static func run(_ log: RatingLog, options o: Options, directory: URL, onProgress: (String) -> Void = { _ in }) throws -> Result {
    guard o.k > 0, o.candidates > 0, o.rankerSteps > 0, o.rankerBatchSize > 0, o.twhin.epochs >= 0, o.twhin.dim > 0 else {
      throw TwHINError("movielens-feed: --k, --candidates, --ranker-steps, --ranker-batch-size and --twhin-dim must be ≥ 1, --twhin-epochs ≥ 0")
    }
    do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
      throw TwHINError("\(directory.path): cannot create the output directory (\((error as NSError).localizedDescription)); pass a writable --out")
    }
    let evaluated = o.validationOnly ? log.subset(TemporalSplit(log).train) : log
    var rows: [Row] = []
    var clock = Date()
    onProgress("TwHIN on the \(o.validationOnly ? "validation" : "test") split's training ratings, top \(o.candidates) per user")
    let outer = try FeedStage(log: evaluated, candidates: o.candidates, twhin: o.twhin, seed: o.seed)
    let twhinSeconds = Date().timeIntervalSince(clock)
    var steps = [(name: "TwHIN on the training ratings + top \(o.candidates) + features", seconds: twhinSeconds)]
    func step(_ name: String, since start: Date) { steps.append((name, Date().timeIntervalSince(start))) }
    let task = outer.task
    guard !task.testUsers.isEmpty else {
      throw TwHINError("movielens-feed: no user has a held-out rating ≥ 4 in this log; it needs users with at least 5 ratings")
    }
    clock = Date()
    rows.append(Row(name: "popularity", result: try TopKEvaluation.evaluate(task, k: o.k, fixed: TopKEvaluation.popularity(task)),
                    seconds: Date().timeIntervalSince(clock)))
    clock = Date()
    var bpr = BPR(users: task.users.count, items: task.items.count, dim: o.bprDim, seed: o.seed)
    bpr.train(task, epochs: o.bprEpochs, learningRate: o.bprLearningRate, lambda: o.bprLambda)
    rows.append(Row(name: "BPR", result: try bpr.evaluate(task, k: o.k), seconds: Date().timeIntervalSince(clock)))
    step("BPR (train + eval)", since: clock)
    clock = Date()
    rows.append(Row(name: "TwHIN", result: try TopKEvaluation.evaluate(task, k: o.k, twhin: outer.model),
                    seconds: twhinSeconds + Date().timeIntervalSince(clock)))

    clock = Date()
    let feedStart = clock
    onProgress("ranker examples: TwHIN inside the training ratings (each user's last 20 % of them held out)")
    let inner = try FeedStage(log: outer.visible, candidates: o.candidates, twhin: o.twhin, seed: o.seed &+ 1)
    guard inner.examples.contains(where: \.isLiked) else {
      throw TwHINError("movielens-feed: the ranker has no positive example: inside the training ratings (each user's last 20 % of them held out) \(inner.task.testUsers.count) users have a held-out rating ≥ 4 and none of those films is among their \(o.candidates) candidates; use a log whose users have at least 7 ratings (ml-100k's have ≥ 20) or raise --candidates")
    }
    var shuffle = RandomGenerator(seed: o.seed, stream: 0x7368_7566)  // "shuf"
    let trainExamples = shuffle.permutation(inner.examples.count).map { inner.examples[$0] }
    try write(trainExamples, task: inner.task, to: directory.appendingPathComponent("examples/train/part-0.tfrecord.gz"))
    try write(outer.examples, task: task, to: directory.appendingPathComponent("examples/test/part-0.tfrecord.gz"))
    try DemoSchema.write(try schema(), to: directory.appendingPathComponent("segdense.json"))
    step("inner split: TwHIN + top \(o.candidates) + features, examples written", since: clock)
    let file = RankerConfigFile(
      variant: .withoutTwHIN, outDirectory: directory, steps: o.rankerSteps, batchSize: o.rankerBatchSize, learningRate: o.rankerLearningRate,
      heads: heads, renamedFeatures: ["continuous: \(continuous)", "binary: \(binary)", "meta__user_id: meta.user_id", "meta__item_id: meta.item_id"],
      name: "feed_ranker", title: "# Written by `tml data movielens-feed`: the feed's Heavy Ranker on retrieval-aware examples (docs/recipes/movielens.md).",
      dataDirectory: "examples")
    onProgress("Heavy Ranker: \(trainExamples.count) examples (\(trainExamples.filter(\.isLiked).count) is_liked), \(o.rankerSteps) steps")
    let run = try RecapRun(configPath: try file.write())
    run.seed = o.seed
    run.workerThreads = o.workerThreads
    try? FileManager.default.removeItem(at: run.saveDir)  // a fresh run, never a resume
    clock = Date()
    let evaluations = try run.train(onEvent: { _ in })
    step("Heavy Ranker: \(o.rankerSteps) steps + AUROC of the evaluated candidates", since: clock)
    clock = Date()
    let (model, _) = try run.loadModel(checkpoint: run.saveDir)
    let scores = try predict(run, model, task: task)
    rows.append(Row(name: "feed", result: try RankerReranking.evaluate(task, k: o.k, scores: scores),
                    seconds: Date().timeIntervalSince(feedStart) + twhinSeconds))
    step("re-rank: score the candidates, Recall/NDCG", since: clock)
    return Result(rows: rows, split: o.validationOnly ? "validation" : "test", trainExamples: trainExamples.count,
                  trainPositives: trainExamples.filter(\.isLiked).count, testExamples: outer.examples.count,
                  candidateRecall: outer.candidateRecall, rankerMetrics: evaluations["test"]?.metrics ?? [:], steps: steps)
  }

  /// The feed's segdense schema: the two feature vectors, the two labels, user and item ids.
  public static func schema() throws -> SegdenseSchema {
    var f: [SegdenseSchema.Feature] = [
      .init(featureName: continuous, dtype: .floatList, length: FeedFeatures.continuousNames.count),
      .init(featureName: binary, dtype: .int64List, length: FeedFeatures.binaryNames.count),
    ]
    f += heads.map { .init(featureName: $0, dtype: .int64List, length: 1) }
    f += ["meta.user_id", "meta.item_id", "meta.timestamp"].map { .init(featureName: $0, dtype: .int64List, length: 1) }
    return try SegdenseSchema(features: f)
  }

  /// The serialized tf.Example of one feed example (ids of `task`'s rows).
  public static func encode(_ e: FeedExample, task: RecommendationTask) throws -> [UInt8] {
    let features: [String: Tensorflow_Feature] = [
      continuous: .floats(e.row.continuous), binary: .int64s(e.row.binary),
      "is_liked": .int64s([e.isLiked ? 1 : 0]), "is_watched": .int64s([e.isWatched ? 1 : 0]),
      "meta.user_id": .int64s([task.users[e.query.user]]), "meta.item_id": .int64s([task.items[e.query.item]]),
      "meta.timestamp": .int64s([e.query.time]),
    ]
    var options = BinaryEncodingOptions()
    options.useDeterministicOrdering = true
    return try Tensorflow_Example(features: features).serializedBytes(options: options)
  }

  static func write(_ examples: [FeedExample], task: RecommendationTask, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let writer = try TFRecordWriter(path: url.path)
    for e in examples { try writer.write(try encode(e, task: task)) }
    try writer.close()
  }

  /// The trained ranker's `is_liked` probability of every evaluated candidate: user row → item row → p.
  static func predict(_ run: RecapRun, _ model: MultiTaskRankingModel, task: RecommendationTask) throws -> [Int: [Int: Float]] {
    guard let test = try run.validationData().first?.1 else { return [:] }
    let pipe = try run.pipeline(test, epochs: 1, shuffle: false)
    guard let head = model.taskNames.firstIndex(of: "is_liked") else { throw TwHINError("the feed ranker has no is_liked head") }
    let heads = model.taskNames.count
    let userRow = Dictionary(uniqueKeysWithValues: task.users.enumerated().map { ($0.element, $0.offset) })
    let itemRow = Dictionary(uniqueKeysWithValues: task.items.enumerated().map { ($0.element, $0.offset) })
    var out: [Int: [Int: Float]] = [:]
    while let batch = try pipe.next() {
      let p = try noGrad { try RecapTrainingTask(model: model).forward(batch) }.probabilities.scalars
      guard let users = batch.meta["meta__user_id"], let items = batch.meta["meta__item_id"] else {
        throw TwHINError("feed candidates without meta__user_id / meta__item_id; re-run tml data movielens-feed")
      }
      for r in 0..<batch.size {
        guard let u = userRow[users[r]], let v = itemRow[items[r]] else { continue }
        out[u, default: [:]][v] = p[r * heads + head]
      }
    }
    return out
  }
}
