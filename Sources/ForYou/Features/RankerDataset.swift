import Foundation
import TMLData

/// A held-out impression as the quality evaluation needs it.
public struct HeldOutImpression: Sendable {
  public var id: Int
  public var user: Int
  public var tweet: Int
  /// When the tweet was posted (the chronological ordering's key).
  public var createdHour: Double
  /// favorites + retweets + replies of the tweet when it was served (the popularity ordering's key).
  public var popularity: Float
  /// Σ_h weight_h · y_h over the engagements that happened.
  public var realisedUtility: Double
  /// Σ_h weight_h · P_true(h).
  public var expectedUtility: Double
  public var engagements: UInt16
}

/// What `RankerDataset.write` produced.
struct RankerDataset {
  var trainFiles: [String]
  var testFiles: [String]
  var trainExamples: Int
  var testExamples: Int
  var heldOut: [HeldOutImpression]
  /// The counters after every impression (features of the feed, served at the end of the simulation).
  var finalCounters: EngagementCounters

  /// Walks the impressions in time order; each train and test impression becomes a
  /// tf.Example built from the counts *before* it, then every impression (history
  /// included) is added to the counts. Train examples go round-robin to
  /// `train/part-<i>.tfrecord.gz`, test ones to `test/part-0.tfrecord.gz`.
  static func write(network: SocialNetwork, encoder: ExampleEncoder, directory: URL, trainFiles n: Int,
                    progress: (Int, Int) -> Void) throws -> RankerDataset {
    let fm = FileManager.default
    let trainDir = directory.appendingPathComponent("train"), testDir = directory.appendingPathComponent("test")
    try fm.createDirectory(at: trainDir, withIntermediateDirectories: true)
    try fm.createDirectory(at: testDir, withIntermediateDirectories: true)
    let train = try (0..<max(n, 1)).map { try TFRecordWriter(path: trainDir.appendingPathComponent("part-\($0).tfrecord.gz").path) }
    let test = try TFRecordWriter(path: testDir.appendingPathComponent("part-0.tfrecord.gz").path)
    var counters = EngagementCounters(network)
    var heldOut: [HeldOutImpression] = []
    var trainCount = 0, testCount = 0
    let total = network.impressions.count
    for (i, imp) in network.impressions.enumerated() {
      if imp.period != .history {
        let bytes = try encoder.encode(user: imp.user, tweet: imp.tweet, hour: imp.hour, counters: counters,
                                       impression: imp.id, engagements: imp.engagements)
        if imp.period == .train {
          try train[trainCount % train.count].write(bytes)
          trainCount += 1
        } else {
          try test.write(bytes)
          testCount += 1
          heldOut.append(HeldOutImpression(
            id: imp.id, user: imp.user, tweet: imp.tweet, createdHour: network.tweets[imp.tweet].createdHour,
            popularity: counters.engagementCount(tweet: imp.tweet), realisedUtility: imp.realisedUtility,
            expectedUtility: imp.expectedUtility, engagements: imp.engagements))
        }
      }
      counters.record(imp)
      if i % 20_000 == 0 || i == total - 1 { progress(i + 1, total) }
    }
    for w in train { try w.close() }
    try test.close()
    return RankerDataset(trainFiles: train.map(\.path), testFiles: [test.path], trainExamples: trainCount, testExamples: testCount,
                         heldOut: heldOut, finalCounters: counters)
  }
}
