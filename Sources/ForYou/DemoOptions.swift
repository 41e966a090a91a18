import Foundation

/// Settings of one `tml demo` run. The defaults finish in well under three minutes on a
/// 2-core machine (release build); tests shrink `users` and the training budgets.
///
///     var o = DemoOptions(users: 2000, seed: 7, outDirectory: URL(fileURLWithPath: "runs/demo"))
///     o.rankerEpochs = 1
public struct DemoOptions: Sendable {
  public var simulation: SimulationConfig
  public var outDirectory: URL
  public var twhin = TwHINOptions()
  /// Passes over the ranker's training examples.
  public var rankerEpochs = 4.0
  public var rankerBatchSize = 256
  public var rankerLearningRate = 0.002
  /// Upper bound on ranker steps (tests).
  public var rankerMaxSteps: Int? = nil
  public var trainFiles = 4
  /// Parse threads of the ranker's input pipeline.
  public var workerThreads = 1
  /// Users whose feed is retrieved and ranked (the first one is printed).
  public var feedUsers = 100
  /// Feed items shown.
  public var feedSize = 10
  /// nil: the feed's nearest-author retrieval scans every author exactly (the default);
  /// else it searches an HNSW index of the author table with this breadth (`ef`).
  public var annSearchBreadth: Int? = nil

  public var seed: UInt64 { simulation.seed }

  public init(users: Int = 2000, seed: UInt64 = 0, outDirectory: URL = URL(fileURLWithPath: "runs/demo")) {
    simulation = SimulationConfig(users: users, seed: seed)
    self.outDirectory = outDirectory
  }
}
