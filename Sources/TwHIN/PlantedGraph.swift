import TMLTensor

/// A synthetic Twitter-like heterogeneous graph with planted communities, for tests,
/// demos and benchmarks. Tables `user`, `author`, `tweet`; every node belongs to one of
/// C communities (a balanced random assignment per table). Relations:
///
///     follow   user → author      fav   user → tweet
///     reply    user → tweet       retweet user → tweet
///
/// Each user draws `degree(relation)` distinct targets (±50 %, at least 1); a draw stays
/// in the user's community with probability `intraCommunity`, otherwise it is uniform
/// over the whole target table. Each edge is held out with probability
/// `heldOutFraction`. Everything comes from `RandomGenerator(seed)`, so a config always
/// gives the same graph.
///
///     let g = try PlantedGraph(.init(users: 300, communities: 8))
///     g.train.count; g.heldOut.count; g.community[0][u]   // community of user u
public struct PlantedGraph: Sendable {
  public struct Config: Equatable, Sendable {
    public var users: Int
    public var authors: Int
    public var tweets: Int
    public var communities: Int
    /// Mean targets per user for follow, fav, reply, retweet.
    public var degrees: [Int]
    public var intraCommunity: Double
    public var heldOutFraction: Double
    public var seed: UInt64

    public init(users: Int = 300, authors: Int = 120, tweets: Int = 600, communities: Int = 8,
                degrees: [Int] = [8, 12, 4, 6], intraCommunity: Double = 0.9,
                heldOutFraction: Double = 0.1, seed: UInt64 = 0) {
      self.users = users
      self.authors = authors
      self.tweets = tweets
      self.communities = communities
      self.degrees = degrees
      self.intraCommunity = intraCommunity
      self.heldOutFraction = heldOutFraction
      self.seed = seed
    }
  }

  public static let relationNames = ["follow", "fav", "reply", "retweet"]

  public let config: Config
  public let schema: GraphSchema
  /// Community of each node, by table index (0 user, 1 author, 2 tweet), then node id.
  public let community: [[Int]]
  public let train: EdgeList
  public let heldOut: EdgeList

  /// Train and held-out edges together.
  public var allEdges: EdgeList { train.appending(heldOut) }

  public init(_ config: Config) throws {
    let sizes = [config.users, config.authors, config.tweets]
    guard sizes.allSatisfy({ $0 > 0 }) else { throw TwHINError("PlantedGraph: users, authors and tweets must be ≥ 1, got \(sizes)") }
    guard config.communities >= 1, config.communities <= sizes.min()! else {
      throw TwHINError("PlantedGraph: communities (\(config.communities)) must be between 1 and the smallest table size (\(sizes.min()!))")
    }
    guard config.degrees.count == 4, config.degrees.allSatisfy({ $0 >= 1 }) else {
      throw TwHINError("PlantedGraph: degrees must give 4 values ≥ 1 (follow, fav, reply, retweet), got \(config.degrees)")
    }
    guard (0...1).contains(config.intraCommunity), (0..<1).contains(config.heldOutFraction) else {
      throw TwHINError("PlantedGraph: intraCommunity must be in [0, 1] and heldOutFraction in [0, 1); got \(config.intraCommunity), \(config.heldOutFraction)")
    }
    self.config = config
    schema = try GraphSchema(
      tables: [TableSpec(name: "user", numEmbeddings: config.users), TableSpec(name: "author", numEmbeddings: config.authors),
               TableSpec(name: "tweet", numEmbeddings: config.tweets)],
      relations: [RelationSpec(name: "follow", lhs: "user", rhs: "author"), RelationSpec(name: "fav", lhs: "user", rhs: "tweet"),
                  RelationSpec(name: "reply", lhs: "user", rhs: "tweet"), RelationSpec(name: "retweet", lhs: "user", rhs: "tweet")])
    var rng = RandomGenerator(seed: config.seed, stream: 0x706C_616E)  // "plan"
    var community: [[Int]] = []
    var members: [[[Int]]] = []
    for n in sizes {
      var c = [Int](repeating: 0, count: n)
      for (i, node) in rng.permutation(n).enumerated() { c[node] = i % config.communities }
      community.append(c)
      var m = [[Int]](repeating: [], count: config.communities)
      for node in 0..<n { m[c[node]].append(node) }
      members.append(m)
    }
    self.community = community
    var train = EdgeList(), heldOut = EdgeList()
    for u in 0..<config.users {
      let cu = community[0][u]
      for r in 0..<4 {
        let table = schema.rhsTable[r], size = sizes[table], base = config.degrees[r]
        let degree = min(size, max(1, base - base / 2 + rng.int(below: base + 1)))
        var chosen = Set<Int>()
        var attempts = 0
        while chosen.count < degree && attempts < 8 * degree {
          attempts += 1
          let inside = Double(rng.uniform()) < config.intraCommunity
          let pool = members[table][cu]
          let v = inside ? pool[rng.int(below: pool.count)] : rng.int(below: size)
          guard chosen.insert(v).inserted else { continue }
          if Double(rng.uniform()) < config.heldOutFraction {
            heldOut.append(lhs: u, relation: r, rhs: v)
          } else {
            train.append(lhs: u, relation: r, rhs: v)
          }
        }
      }
    }
    self.train = train
    self.heldOut = heldOut
  }
}
