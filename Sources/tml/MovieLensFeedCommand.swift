import ArgumentParser
import ForYou
import Foundation
import TwHIN

/// `tml data movielens-feed`: the whole MovieLens feed (TwHIN retrieves, the Heavy Ranker
/// re-ranks with retrieval-aware labels) against popularity and BPR (`MovieLensFeed`).
struct MovieLensFeedCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "movielens-feed",
    abstract: "TwHIN top-n → Heavy Ranker re-rank on a MovieLens time split, with popularity and BPR: Recall@k and NDCG@k of each.")

  @Option(help: "The rating log: u.data (100k), ratings.dat (1m) or ratings.csv (25m).") var ratings: String
  @Option(help: "auto (by file name), 100k, 1m or 25m.") var format: String = "auto"
  @Option(help: "Output directory (ranker examples, config and run).") var out: String
  @Flag(help: "Evaluate on a validation split carved from the training ratings (each user's last 20 % of them); the test ratings are never read.")
  var validationOnly = false
  @Option(help: "Cut-off k.") var k: Int = 10
  @Option(help: "TwHIN candidates per user for the ranker.") var candidates: Int = 200
  @Option(help: "Seed of TwHIN, BPR and the ranker.") var seed: UInt64 = 0
  @Option(help: "TwHIN embedding dimension.") var twhinDim: Int = 64
  @Option(help: "TwHIN epochs.") var twhinEpochs: Int = 10
  @Option(help: "TwHIN Adagrad learning rate.") var twhinLr: Float = 0.1
  @Option(help: "TwHIN uniform negatives per side.") var twhinNegatives: Int = 128
  @Option(help: "Sides TwHIN draws negatives for: both (users and items, the original's) or rhs (items only).") var twhinNegativeSides: String = "both"
  @Option(help: "Heavy Ranker training steps.") var rankerSteps: Int = 3000
  @Option(help: "Heavy Ranker batch size.") var rankerBatchSize: Int = 256
  @Option(help: "Heavy Ranker Adam learning rate.") var rankerLr: Double = 0.001
  @Option(help: "BPR embedding dimension.") var bprDim: Int = 64
  @Option(help: "BPR epochs.") var bprEpochs: Int = 30
  @Option(help: "BPR SGD learning rate.") var bprLr: Float = 0.05
  @Option(help: "BPR L2 weight λ.") var bprLambda: Float = 0.01
  @Option(help: "Threads reading the ranker's examples.") var workerThreads: Int = 1

  func run() throws {
    let f = try ratingFormat(format)
    var o = MovieLensFeed.Options()
    (o.k, o.candidates, o.seed, o.validationOnly) = (k, candidates, seed, validationOnly)
    (o.twhin.dim, o.twhin.epochs, o.twhin.learningRate, o.twhin.globalNegatives) = (twhinDim, twhinEpochs, twhinLr, twhinNegatives)
    switch twhinNegativeSides {
    case "rhs": o.twhin.negativeSides = [.rhs]
    case "both": o.twhin.negativeSides = [.lhs, .rhs]
    default: throw TwHINError("--twhin-negative-sides \(twhinNegativeSides): use rhs or both")
    }
    guard twhinNegatives >= 0, bprDim > 0, bprEpochs >= 0, workerThreads > 0 else {
      throw TwHINError("--twhin-negatives and --bpr-epochs must be ≥ 0, --bpr-dim and --worker-threads ≥ 1")
    }
    (o.rankerSteps, o.rankerBatchSize, o.rankerLearningRate) = (rankerSteps, rankerBatchSize, rankerLr)
    (o.bprDim, o.bprEpochs, o.bprLearningRate, o.bprLambda, o.workerThreads) = (bprDim, bprEpochs, bprLr, bprLambda, workerThreads)
    let log = try RatingLog(path: ratings, format: f)
    let start = Date()
    let r = try MovieLensFeed.run(log, options: o, directory: URL(fileURLWithPath: out)) { print($0) }
    print("\(r.split) split: \(r.rows[0].result.users) users; ranker trained on \(r.trainExamples) candidates (\(r.trainPositives) is_liked), re-ranks \(r.testExamples); TwHIN recall@\(candidates) \(String(format: "%.4f", r.candidateRecall))")
    if let auc = r.rankerMetrics["is_liked/auroc"] { print("ranker is_liked AUROC on the \(r.split) candidates: \(String(format: "%.3f", auc))") }
    for s in r.steps { print("  \(String(format: "%5.1f", s.seconds)) s  \(s.name)") }
    for row in r.rows {
      print("\(row.name.padding(toLength: 12, withPad: " ", startingAt: 0))  Recall@\(k) \(String(format: "%.4f", row.result.recall))  NDCG@\(k) \(String(format: "%.4f", row.result.ndcg))  (\(String(format: "%.1f", row.seconds)) s)")
    }
    print("total \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
  }
}
