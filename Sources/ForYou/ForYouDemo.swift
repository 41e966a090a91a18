import Foundation
import Recap
import TMLTensor
import TMLTrain
import TMLANN
import TwHIN

/// The For You pipeline end to end, on a simulated network with known ground truth:
///
///     1 simulate    users, authors, tweets, follows, impressions + engagements   (SocialNetwork)
///     2 TwHIN       embeddings of the follow + engagement graph                 (EngagementGraph, TwHINStage)
///     3 ranker      segdense tf.Examples, Heavy Ranker with and without TwHIN   (RankerDataset, RankerStage)
///     4 feed        in-network + TwHIN candidates → ranker → weighted score     (CandidateRetrieval, FeedRanker)
///     5 quality     NDCG@10 on held-out impressions vs baselines                (RankingQuality)
///     6 report      report.html with inline SVG plots                           (HTMLReport)
///
/// Everything is written under `options.outDirectory`; the same seed gives the same feed.
///
///     let result = try ForYouDemo(options: DemoOptions(users: 2000)).run { event in … }
///     print(DemoText.feed(result.feeds[0], top: 10))
public struct ForYouDemo {
  public var options: DemoOptions

  public init(options: DemoOptions) { self.options = options }

  /// The files and directories the demo owns under the output directory (cleared first).
  static let outputs = ["graph", "twhin", "data", "segdense.json", "features.tsv", "metrics.jsonl", "feed.tsv", "report.html"]
    + RankerVariant.allCases.flatMap { [$0.rawValue, "\($0.rawValue).yaml"] }

  public func run(_ onEvent: @escaping (DemoEvent) -> Void = { _ in }) throws -> DemoResult {
    let o = options
    let out = o.outDirectory.standardizedFileURL
    let fm = FileManager.default
    try fm.createDirectory(at: out, withIntermediateDirectories: true)
    for name in ForYouDemo.outputs { try? fm.removeItem(at: out.appendingPathComponent(name)) }
    var seconds: [(DemoStage, Double)] = []
    func stage<T>(_ s: DemoStage, _ body: () throws -> (T, [String])) rethrows -> T {
      onEvent(.started(s))
      let start = Date()
      let (value, summary) = try body()
      let t = Date().timeIntervalSince(start)
      seconds.append((s, t))
      onEvent(.finished(s, seconds: t, summary: summary))
      return value
    }

    // 1. Simulate.
    let (network, summary) = stage(.simulate) { () -> ((SocialNetwork, NetworkSummary), [String]) in
      let n = SocialNetwork(o.simulation)
      let summary = ForYouDemo.summarize(n)
      return ((n, summary), DemoText.networkLines(summary))
    }

    // 2. TwHIN.
    let (graph, twhin) = try stage(.twhin) { () throws -> ((EngagementGraph, TrainedTwHIN), [String]) in
      let graph = try EngagementGraph(network)
      try EdgeFiles.write(graph, to: out.appendingPathComponent("graph"))
      let twhin = try TwHINStage.train(graph, options: o.twhin, seed: o.seed, directory: out.appendingPathComponent("twhin")) {
        onEvent(.twhinEpoch(epoch: $0, of: o.twhin.epochs, loss: $1))
      }
      return ((graph, twhin), DemoText.twhinLines(graph: graph, twhin: twhin))
    }

    // 3a. Examples.
    let encoder = ExampleEncoder(network: network, twhin: twhin)
    let dataset = try stage(.examples) { () throws -> (RankerDataset, [String]) in
      try DemoSchema.write(try DemoSchema.schema(embeddingDim: o.twhin.dim), to: out.appendingPathComponent("segdense.json"))
      try DemoSchema.writeFeatureNames(to: out.appendingPathComponent("features.tsv"))
      let d = try RankerDataset.write(network: network, encoder: encoder, directory: out.appendingPathComponent("data"),
                                      trainFiles: o.trainFiles) { onEvent(.examplesProgress(done: $0, total: $1)) }
      return (d, [
        "\(d.trainExamples) train examples in \(d.trainFiles.count) files, \(d.testExamples) held-out examples → \(out.path)/data",
        "segdense.json: \(RankerFeatures.continuousNames.count) continuous + \(RankerFeatures.binaryNames.count) binary features, "
          + "3 TwHIN embeddings × \(o.twhin.dim), 10 labels, 4 meta ids (feature names: features.tsv)",
      ])
    }

    // 3b. Rankers.
    let (rankers, predictions) = try stage(.ranker) { () throws -> (([TrainedRanker], [[Int: [Float]]]), [String]) in
      var steps = Int((Double(dataset.trainExamples) * o.rankerEpochs / Double(o.rankerBatchSize)).rounded(.up))
      if let m = o.rankerMaxSteps { steps = min(steps, m) }
      steps = max(steps, 1)
      let rankers = try RankerVariant.allCases.map { variant in
        let file = RankerConfigFile(variant: variant, outDirectory: out, steps: steps, batchSize: o.rankerBatchSize,
                                    learningRate: o.rankerLearningRate)
        return try RankerStage.train(file, seed: o.seed, workerThreads: o.workerThreads) { event in
          switch event {
          case .progress(let step, let total): onEvent(.rankerTraining(variant, step: step, total: total, loss: nil))
          case .logged(let step, let v): onEvent(.rankerTraining(variant, step: step, total: steps, loss: v["loss"]))
          default: break
          }
        }
      }
      return ((rankers, try rankers.map { try $0.predictTest() }), DemoText.headMetrics(rankers))
    }
    let calibration = CalibrationCurve.curves(dataset.heldOut, predictions: predictions[0])

    // 4. Feeds.
    let (feeds, retrieval) = try stage(.feed) { () throws -> (([Feed], RetrievalSummary), [String]) in
      let (feeds, retrieval) = try ForYouDemo.feeds(network: network, twhin: twhin, ranker: rankers[0], encoder: encoder,
                                                    counters: dataset.finalCounters, options: o)
      try DemoText.feedTSV(feeds).write(to: out.appendingPathComponent("feed.tsv"), atomically: true, encoding: .utf8)
      let shown = feeds.first.map { [""] + DemoText.feed($0, top: o.feedSize).split(separator: "\n").map(String.init) } ?? []
      return ((feeds, retrieval), DemoText.retrievalLines(retrieval, feeds: feeds) + shown)
    }

    // 5. Quality.
    let quality = stage(.quality) { () -> ([QualityRow], [String]) in
      let rows = RankingQuality.evaluate(dataset.heldOut, scores: zip(rankers, predictions).map { ($0.variant.title, $1) }, seed: o.seed)
      return (rows, DemoText.quality(rows).split(separator: "\n").map(String.init))
    }
    try ForYouDemo.logSummary(out: out, quality: quality, rankers: rankers, twhin: twhin)

    // 6. Report.
    var result = DemoResult(
      options: o, network: summary,
      graphEdgeCounts: zip(graph.schema.relations.map(\.name), graph.edgeCounts).map { ($0, $1) },
      twhinLosses: twhin.epochLosses, twhinEvaluation: twhin.evaluation, rankers: rankers, calibration: calibration, feeds: feeds,
      retrieval: retrieval, quality: quality, stageSeconds: seconds, reportPath: out.appendingPathComponent("report.html").path)
    try stage(.report) { () throws -> ((), [String]) in
      try HTMLReport(result: result).html.write(toFile: result.reportPath, atomically: true, encoding: .utf8)
      return ((), ["→ \(result.reportPath)"])
    }
    result.stageSeconds = seconds
    return result
  }

  static func summarize(_ n: SocialNetwork) -> NetworkSummary {
    var periods = [0, 0, 0]
    var positives = [Int](repeating: 0, count: EngagementHead.allCases.count)
    for imp in n.impressions {
      periods[imp.period.rawValue] += 1
      for h in EngagementHead.allCases where imp.engaged(h) { positives[h.rawValue] += 1 }
    }
    let followers = n.follows.followers.sorted()
    return NetworkSummary(
      users: n.users.count, authors: n.authors.count, topics: n.config.topics, tweets: n.tweets.count, follows: n.follows.edgeCount,
      maxFollowers: followers.last ?? 0, medianFollowers: followers.isEmpty ? 0 : followers[followers.count / 2], impressions: periods,
      engagementRates: positives.map { Double($0) / Double(max(n.impressions.count, 1)) })
  }

  /// Feeds of `feedUsers` users drawn by the seed (the first is the one printed), at the end of the simulation.
  static func feeds(network: SocialNetwork, twhin: TrainedTwHIN, ranker: TrainedRanker, encoder: ExampleEncoder,
                    counters: EngagementCounters, options o: DemoOptions) throws -> ([Feed], RetrievalSummary) {
    var rng = RandomGenerator(seed: o.seed, stream: 0x4645)  // "FE"
    let users = Array(rng.permutation(network.users.count).filter { !network.follows.followees[$0].isEmpty }.prefix(o.feedUsers))
    let now = network.config.endHour
    var retrieval = CandidateRetrieval(network: network, twhin: twhin)
    if let ef = o.annSearchBreadth {
      let authors = twhin.model.schema.rhsTable[EngagementGraph.Relation.follow.rawValue]
      retrieval.authorIndex = try TwHINANN.build(model: twhin.model, table: authors, parameters: HNSWParameters(), threads: 1).index
      retrieval.annSearchBreadth = ef
    }
    let candidates = try retrieval.candidates(for: users, now: now)
    let ranker = try FeedRanker(ranker: ranker, encoder: encoder, counters: counters)
    let feeds = try zip(users, candidates).map { try ranker.rank(user: $0, candidates: $1, hour: now) }
    // Diagnostics: interest match by source, and NDCG@10 of the feeds against the true expected utility.
    func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
    let items = feeds.flatMap(\.items)
    let recent = network.tweetIDs(from: now - retrieval.windowHours, to: now)
    var randomMatch: [Double] = []
    for u in users {
      let pool = recent.filter { !network.follows.follows(user: u, author: network.tweets[$0].author) }
      randomMatch.append(mean(pool.map { network.users[u].interests[network.tweets[$0].topic] }))
    }
    var scoreNDCG: [Double] = [], chronoNDCG: [Double] = [], randomNDCG: [Double] = []
    for f in feeds {
      let gains = f.items.map(\.trueExpectedUtility)
      if let v = NDCG.at(10, gains: gains, order: Array(gains.indices)) { scoreNDCG.append(v) }
      if let v = NDCG.at(10, gains: gains, order: NDCG.order(byDescending: f.items.map { -$0.ageHours })) { chronoNDCG.append(v) }
      if let v = NDCG.at(10, gains: gains, order: rng.permutation(gains.count)) { randomNDCG.append(v) }
    }
    let summary = RetrievalSummary(
      inNetworkMatch: mean(items.filter { $0.source == .inNetwork }.map(\.interestMatch)),
      twhinMatch: mean(items.filter { $0.source == .twhin }.map(\.interestMatch)),
      randomOutOfNetworkMatch: mean(randomMatch),
      feedNDCG: (mean(scoreNDCG), mean(chronoNDCG), mean(randomNDCG)))
    return (feeds, summary)
  }

  /// Appends the run's headline numbers to `<out>/metrics.jsonl` (kind `demo/quality`, `demo/ranker/<variant>`, `demo/twhin`).
  static func logSummary(out: URL, quality: [QualityRow], rankers: [TrainedRanker], twhin: TrainedTwHIN) throws {
    let log = try MetricsLog(url: out.appendingPathComponent("metrics.jsonl"))
    var q: [String: Double] = [:]
    for r in quality {
      q["ndcg10_realised/\(r.name)"] = r.realised
      q["ndcg10_expected/\(r.name)"] = r.expected
    }
    try log.append(kind: "demo/quality", step: 0, q)
    for r in rankers { try log.append(kind: "demo/ranker/\(r.variant.rawValue)", step: r.curve.last?.step ?? 0, r.metrics) }
    try log.append(kind: "demo/twhin", step: twhin.epochLosses.count, twhin.evaluation.dictionary)
  }
}
