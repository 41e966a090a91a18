import TMLTensor
import TwHIN

/// The heterogeneous graph TwHIN embeds, built from the simulated network:
///
///     tables     user (follow side) · user_eng (engagement side) · author · tweet
///     relations  follow    user     → author    every follow edge
///                authored  author   → tweet     every tweet (authorship is known when it is posted)
///                fav       user_eng → tweet     favorites      of the history period
///                reply     user_eng → tweet     replies        of the history period
///                retweet   user_eng → tweet     retweets       of the history period
///
/// Two user tables mirror production, where the ranker reads a user *follow* embedding and
/// a user *engagement* embedding (`user_embedding`, `user_eng_embedding`) next to the
/// author's follow embedding (`author_embedding`). Only history-period engagements are
/// used, so the ranker's train and test labels never leak into the embeddings.
/// `heldOutFraction` of the follow and engagement edges is kept aside for link-prediction
/// metrics.
///
///     let g = try EngagementGraph(network, heldOutFraction: 0.05)
///     g.schema.relations.map(\.name)   // ["follow", "authored", "fav", "reply", "retweet"]
public struct EngagementGraph: Sendable {
  public enum Table: Int, CaseIterable, Sendable {
    case user, userEngagement, author, tweet
    public var name: String { ["user", "user_eng", "author", "tweet"][rawValue] }
  }

  public enum Relation: Int, CaseIterable, Sendable {
    case follow, authored, fav, reply, retweet
    public var name: String { ["follow", "authored", "fav", "reply", "retweet"][rawValue] }
    var tables: (lhs: Table, rhs: Table) {
      switch self {
      case .follow: return (.user, .author)
      case .authored: return (.author, .tweet)
      case .fav, .reply, .retweet: return (.userEngagement, .tweet)
      }
    }
  }

  public let schema: GraphSchema
  public let train: EdgeList
  public let heldOut: EdgeList

  public init(_ network: SocialNetwork, heldOutFraction: Double = 0.05) throws {
    let sizes = [network.users.count, network.users.count, network.authors.count, max(network.tweets.count, 1)]
    schema = try GraphSchema(
      tables: Table.allCases.map { TableSpec(name: $0.name, numEmbeddings: sizes[$0.rawValue]) },
      relations: Relation.allCases.map { RelationSpec(name: $0.name, lhs: $0.tables.lhs.name, rhs: $0.tables.rhs.name) })
    var rng = RandomGenerator(seed: network.config.seed, stream: 0x4752)  // "GR"
    var train = EdgeList(), heldOut = EdgeList()
    func add(_ lhs: Int, _ r: Relation, _ rhs: Int) {
      if r != .authored && rng.unit() < heldOutFraction {
        heldOut.append(lhs: lhs, relation: r.rawValue, rhs: rhs)
      } else {
        train.append(lhs: lhs, relation: r.rawValue, rhs: rhs)
      }
    }
    for (u, authors) in network.follows.followees.enumerated() { for a in authors { add(u, .follow, a) } }
    for t in network.tweets { add(t.author, .authored, t.id) }
    for imp in network.impressions where imp.period == .history {
      if imp.engaged(.favorite) { add(imp.user, .fav, imp.tweet) }
      if imp.engaged(.reply) { add(imp.user, .reply, imp.tweet) }
      if imp.engaged(.retweet) { add(imp.user, .retweet, imp.tweet) }
    }
    self.train = train
    self.heldOut = heldOut
  }

  /// Edge counts per relation (train + held out), in relation order.
  public var edgeCounts: [Int] {
    var c = [Int](repeating: 0, count: Relation.allCases.count)
    for r in train.relations { c[r] += 1 }
    for r in heldOut.relations { c[r] += 1 }
    return c
  }
}
