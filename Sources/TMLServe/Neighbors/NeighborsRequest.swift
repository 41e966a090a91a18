import TwHIN

/// The body of `POST /v1/neighbors`, and the `twhin` member of `/v1/feed`:
///
///     {"relation": "fav", "lhs": 17, "k": 10, "exact": true, "lhs_table": "user"}
///
/// `lhs` is the raw id when the relation's lhs table has a vocabulary, else the row;
/// `exact` (default true) asks for the exact scan, `false` for the relation's approximate
/// index when one is plugged in (the reply's `method` says which answered);
/// `lhs_table`, optional, must name the relation's lhs table.
public struct NeighborsRequest {
  public var relation: Int
  public var relationName: String
  public var lhsID: Int64
  public var lhsRow: Int
  public var k: Int
  public var exact: Bool

  static let members: Set<String> = ["relation", "lhs", "k", "exact", "lhs_table"]

  public static func decode(_ json: JSONValue, twhin: LoadedTwHIN, maxK: Int, path: String, extraMembers: Set<String> = []) throws -> NeighborsRequest {
    guard case .object(let members) = json else { throw ServeError.badRequest("\(path): expected an object {relation, lhs, k}, got \(json.kind)") }
    try RankRequest.checkMembers(members, allowed: NeighborsRequest.members.union(extraMembers), path: path)
    let schema = twhin.run.schema
    guard case .string(let name)? = json["relation"] else {
      throw ServeError.badRequest("\(path).relation: expected a relation name, one of \(schema.relations.map(\.name).joined(separator: ", "))")
    }
    guard let r = schema.relations.firstIndex(where: { $0.name == name }) else {
      throw ServeError.badRequest("\(path).relation: unknown relation \"\(name)\"; the model's relations are \(schema.relations.map(\.name).joined(separator: ", "))")
    }
    let lhsTable = schema.lhsTable[r]
    if let t = json["lhs_table"] {
      guard case .string(let table) = t, table == schema.tables[lhsTable].name else {
        throw ServeError.badRequest("\(path).lhs_table: relation \"\(name)\" goes from table \"\(schema.tables[lhsTable].name)\", not \(t)")
      }
    }
    guard case .number(_, let id?)? = json["lhs"] else {
      throw ServeError.badRequest("\(path).lhs: expected an integer id of table \"\(schema.tables[lhsTable].name)\"")
    }
    let row = try twhin.row(of: id, table: lhsTable, path: "\(path).lhs")
    var k = 10
    if let v = json["k"] {
      guard case .number(_, let x?) = v, x >= 1, x <= Int64(maxK) else {
        throw ServeError.badRequest("\(path).k: expected an integer from 1 to \(maxK), got \(v.kind == "a number" ? "\(v)" : v.kind)")
      }
      k = Int(x)
    }
    var exact = true
    if let v = json["exact"] {
      guard case .bool(let b) = v else { throw ServeError.badRequest("\(path).exact: expected true or false, got \(v.kind)") }
      exact = b
    }
    return NeighborsRequest(relation: r, relationName: name, lhsID: id, lhsRow: row, k: k, exact: exact)
  }
}

/// The answer to a `NeighborsRequest`: the source that answered and the k best rhs
/// (raw id, row, score), best first.
public struct NeighborsAnswer: Sendable {
  public var method: String
  public var requestedExact: Bool
  public var neighbors: [(id: Int64, row: Int, score: Float)]

  /// Asks `twhin` (the exact scan, or the relation's approximate index when `exact` is false).
  public static func find(_ request: NeighborsRequest, in twhin: LoadedTwHIN) throws -> NeighborsAnswer {
    let source = twhin.source(relation: request.relation, exact: request.exact)
    let rhsTable = twhin.run.schema.rhsTable[request.relation]
    let list = try source.neighbors(lhs: request.lhsRow, relation: request.relation, k: request.k)
    return NeighborsAnswer(method: source.method, requestedExact: request.exact,
                           neighbors: list.map { (twhin.id(ofRow: $0.id, table: rhsTable), $0.id, $0.score) })
  }

  func write(to o: inout JSONWriter) {
    o.key("method"); o.string(method)
    o.key("requested_exact"); o.bool(requestedExact)
    o.key("neighbors")
    o.array { a in
      for n in neighbors {
        a.object { x in
          x.key("id"); x.int64(n.id)
          x.key("row"); x.int(n.row)
          x.key("score"); x.float(n.score)
        }
      }
    }
  }
}
