import Foundation
import SwiftProtobuf
import TMLData

/// Encodes one (user, tweet, hour) as a serialized tf.Example in the `DemoSchema` layout:
/// the `RankerFeatures` row, the three TwHIN embeddings, the labels (when known) and the
/// meta ids. Maps are written in sorted key order, so the bytes are deterministic.
///
///     let bytes = encoder.encode(user: 3, tweet: 812, hour: 170.5, counters: c, impression: 42, engagements: bits)
struct ExampleEncoder {
  let network: SocialNetwork
  let userEmbeddings: [Float]
  let userEngEmbeddings: [Float]
  let authorEmbeddings: [Float]
  let dim: Int

  init(network: SocialNetwork, twhin: TrainedTwHIN) {
    self.network = network
    let m = twhin.model
    dim = m.dim
    userEmbeddings = m.tables[EngagementGraph.Table.user.rawValue].weight.value.scalars
    userEngEmbeddings = m.tables[EngagementGraph.Table.userEngagement.rawValue].weight.value.scalars
    authorEmbeddings = m.tables[EngagementGraph.Table.author.rawValue].weight.value.scalars
  }

  func encode(user u: Int, tweet t: Int, hour: Double, counters: EngagementCounters, impression: Int,
              engagements: UInt16?) throws -> [UInt8] {
    let (c, b) = RankerFeatures.row(user: u, tweet: t, hour: hour, network: network, counters: counters)
    let a = network.tweets[t].author
    func rows(_ table: [Float], _ id: Int) -> [Float] { Array(table[(id * dim)..<((id + 1) * dim)]) }
    var features: [String: Tensorflow_Feature] = [
      DemoSchema.continuous: .floats(c),
      DemoSchema.binary: .int64s(b),
      DemoSchema.userEmbedding: .floats(rows(userEmbeddings, u)),
      DemoSchema.userEngEmbedding: .floats(rows(userEngEmbeddings, u)),
      DemoSchema.authorEmbedding: .floats(rows(authorEmbeddings, a)),
      "meta.user_id": .int64s([Int64(u)]),
      "meta.tweet_id": .int64s([Int64(t)]),
      "meta.author_id": .int64s([Int64(a)]),
      "meta.impression_id": .int64s([Int64(impression)]),
    ]
    if let engagements {
      for h in EngagementHead.allCases { features[h.task] = .int64s([engagements & (1 << UInt16(h.rawValue)) != 0 ? 1 : 0]) }
    }
    var options = BinaryEncodingOptions()
    options.useDeterministicOrdering = true
    return try Tensorflow_Example(features: features).serializedBytes(options: options)
  }
}
