/// `POST /v1/feed`: retrieval and ranking in one call, the serving form of the For You
/// demo's feed stage (Sources/ForYou/Ranking: in-network candidates plus the tweets of
/// the user's TwHIN neighbours, ranked by the Heavy Ranker's weighted engagement score):
///
///     {"user": {"features": {…}},
///      "in_network": [{"id", "features" | "example"}, …],          the caller's in-network candidates
///      "twhin": {"relation", "lhs", "k", "exact",
///                "items": [{"rhs", "id", "features" | "example"}, …]},   out-of-network items, by TwHIN rhs id
///      "weights": {…}, "top": n}
///
/// The k TwHIN neighbours of (lhs, relation) are found (`NeighborsAnswer`); the items
/// whose `rhs` is one of them — the tweet itself for a tweet relation, or its author for
/// `follow` — join the in-network candidates (an id already in-network is not added
/// twice); all are ranked in one pass. Each feed entry says its `source` ("in-network" or
/// "TwHIN", then with the neighbour's rank and score).
extension ServeCore {
  static let feedMembers: Set<String> = ["user", "in_network", "twhin", "weights", "top"]

  public func feed(_ body: [UInt8]) async throws -> String {
    let ranker = try requireRanker()
    let json = try ServeCore.parse(body)
    guard case .object(let members) = json else { throw ServeError.badRequest("body: expected a JSON object, got \(json.kind)") }
    try RankRequest.checkMembers(members, allowed: ServeCore.feedMembers, path: "body")
    let user = try RankRequest.userFeatures(json["user"], encoder: ranker.encoder, path: "user")
    var candidates = try json["in_network"].map {
      try RankRequest.decodeCandidates($0, user: user, encoder: ranker.encoder, maxCandidates: options.maxCandidates, path: "in_network")
    } ?? []
    var sources: [(source: String, neighbor: (rhs: Int64, rank: Int, score: Float)?)] = candidates.map { _ in ("in-network", nil) }
    var retrieval: NeighborsAnswer? = nil
    var offered = 0
    if let t = json["twhin"] {
      let twhin = try requireTwHIN()
      let request = try NeighborsRequest.decode(t, twhin: twhin, maxK: options.maxNeighbors, path: "twhin", extraMembers: ["items"])
      let items = t["items"] ?? .array([])
      guard let list = items.elements else { throw ServeError.badRequest("twhin.items: expected an array of {rhs, id, features | example}, got \(items.kind)") }
      offered = list.count
      guard candidates.count + list.count <= options.maxCandidates else {
        throw ServeError.tooLarge("in_network and twhin.items hold \(candidates.count + list.count) candidates, more than the server's limit of \(options.maxCandidates) (--max-candidates)")
      }
      let answer = try await onTwHINQueue { try NeighborsAnswer.find(request, in: twhin) }
      retrieval = answer
      var rank: [Int64: (Int, Float)] = [:]
      for (i, n) in answer.neighbors.enumerated() where rank[n.id] == nil { rank[n.id] = (i + 1, n.score) }
      var seen = Set(candidates.map { RankedList.idKey($0.id) })
      for (i, item) in list.enumerated() {
        let path = "twhin.items[\(i)]"
        guard case .number(_, let rhs?)? = item["rhs"] else {
          throw ServeError.badRequest("\(path).rhs: expected the integer TwHIN id of the item's neighbour (the tweet, or its author for follow)")
        }
        let c = try RankRequest.candidate(item, index: candidates.count, user: user, encoder: ranker.encoder, path: path, extraMembers: ["rhs"])
        guard let (r, s) = rank[rhs], seen.insert(RankedList.idKey(c.id)).inserted else { continue }
        candidates.append(c)
        sources.append(("TwHIN", (rhs, r, s)))
      }
    }
    let weights = try RankedList.weights(options.weights, overrides: try RankRequest.weights(json["weights"]), heads: ranker.taskNames)
    let top = try RankRequest.top(json["top"])
    let result = try await batcher.score(candidates.map(\.record))
    let list = try RankedList(result, ids: candidates.map(\.id), weights: weights, path: "feed candidates")
    var w = JSONWriter()
    w.object { o in
      writeModel(result.ranker, to: &o)
      if let retrieval {
        o.key("retrieval")
        o.object { r in
          retrieval.write(to: &r)
          r.key("items_offered"); r.int(offered)
          r.key("items_selected"); r.int(sources.filter { $0.source == "TwHIN" }.count)
        }
      }
      o.key("heads"); o.array { a in for h in list.heads { a.string(h) } }
      o.key("count"); o.int(list.entries.count)
      o.key("feed")
      o.array { a in
        for e in list.entries.prefix(top ?? Int.max) {
          list.write(e, to: &a) { x in
            let s = sources[e.index]
            x.key("source"); x.string(s.source)
            if let n = s.neighbor {
              x.key("neighbor")
              x.object { m in
                m.key("rhs"); m.int64(n.rhs)
                m.key("rank"); m.int(n.rank)
                m.key("score"); m.float(n.score)
              }
            }
          }
        }
      }
    }
    return w.text
  }
}
