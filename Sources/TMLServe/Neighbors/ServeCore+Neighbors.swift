/// `POST /v1/neighbors`.
extension ServeCore {
  /// `NeighborsRequest` → `{"model", "relation", "lhs", "k", "method", "requested_exact",
  /// "neighbors": [{"id", "row", "score"}, …]}`, best first.
  public func neighbors(_ body: [UInt8]) async throws -> String {
    let twhin = try requireTwHIN()
    let request = try NeighborsRequest.decode(try ServeCore.parse(body), twhin: twhin, maxK: options.maxNeighbors, path: "body")
    let answer = try await onTwHINQueue { try NeighborsAnswer.find(request, in: twhin) }
    var w = JSONWriter()
    w.object { o in
      o.key("model")
      o.object { m in
        m.key("version"); m.string(twhin.version)
        m.key("checkpoint"); m.string(twhin.checkpoint)
        m.key("step"); m.int(twhin.step)
      }
      o.key("relation"); o.string(request.relationName)
      o.key("lhs"); o.int64(request.lhsID)
      o.key("k"); o.int(request.k)
      answer.write(to: &o)
    }
    return w.text
  }
}
