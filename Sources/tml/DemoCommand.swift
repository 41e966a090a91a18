import ArgumentParser
import ForYou
import Foundation

/// `tml demo`: the For You pipeline on a simulated network — TwHIN, the Heavy Ranker, an
/// explained feed and its ranking quality (docs/demo.md).
struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Simulate a social network, train TwHIN and the Heavy Ranker, print a ranked, explained feed and its quality.")

  @Option(help: "Simulated users (authors, topics, tweets and impressions scale with it).") var users: Int = 2000
  @Option(help: "Random seed: the same seed prints the same feed.") var seed: UInt64 = 0
  @Option(help: "Output directory (graph, embeddings, TFRecords, checkpoints, metrics, report.html).") var out: String = "runs/demo"
  @Option(help: "Find the feed's nearest authors with an HNSW index of this search breadth instead of the exact scan.") var annEf: Int?

  func validate() throws {
    guard users >= 20 else { throw ValidationError("--users must be at least 20") }
  }

  func run() throws {
    let start = Date()
    var options = DemoOptions(users: users, seed: seed, outDirectory: URL(fileURLWithPath: out))
    options.annSearchBreadth = annEf
    var bar: ProgressBar?
    let result = try ForYouDemo(options: options).run { event in
      switch event {
      case .started(let stage):
        print("\n== \(stage.title)")
        fflush(stdout)
      case .finished(let stage, let seconds, let summary):
        bar?.finish()
        bar = nil
        for line in summary { print(line.isEmpty ? "" : "   " + line) }
        print(String(format: "   (%@: %.1f s)", "\(stage)", seconds))
        fflush(stdout)
      case .twhinEpoch(let epoch, let total, _):
        if bar == nil { bar = ProgressBar(total: total, label: "   TwHIN epochs") }
        bar?.update(epoch)
      case .examplesProgress(let done, let total):
        if bar == nil { bar = ProgressBar(total: total, label: "   impressions") }
        bar?.update(done)
      case .rankerTraining(let variant, let step, let total, let loss):
        if bar == nil { bar = ProgressBar(total: total, label: "   \(variant.rawValue)") }
        if loss == nil { bar?.update(step) }
        if step >= total { bar?.finish(); bar = nil }
      }
    }
    print(String(format: "\nwrote %@ (report: %@) in %.1f s", options.outDirectory.path, result.reportPath, Date().timeIntervalSince(start)))
  }
}
