/// One node type of the graph: an embedding table of `numEmbeddings` rows
/// (the original's `model.embeddings.tables[i]`: name, num_embeddings).
public struct TableSpec: Equatable, Sendable {
  public var name: String
  public var numEmbeddings: Int

  public init(name: String, numEmbeddings: Int) {
    self.name = name
    self.numEmbeddings = numEmbeddings
  }
}

/// How a relation transforms the rhs embedding before the dot comparator,
/// s(u, r, v) = ⟨e_u, op_r(e_v)⟩ with the relation's parameter vector t_r (`all_trans_embs[r]`):
///
///     translation   op(v) = v + t                      (the original's only operator; PBG's TranslationOperator)
///     diagonal      op(v) = t ∘ v                      (DistMult: s = Σ_j u_j t_j v_j; PBG's DiagonalOperator)
///     complex       op(v) = t ⊛ v, halves as re | im   (ComplEx: s = Re Σ_j conj(u_j) t_j v_j; PBG's ComplexDiagonalOperator)
///
/// `complex` reads a D-vector as D/2 complex numbers, real parts first; D must be even.
/// s = Re⟨u, t ⊛ v⟩ equals ComplEx's Re⟨h ∘ r ∘ conj(t)⟩ with h = v, r = t, tail = u —
/// the same family of models, with the relation parameter learned directly.
public enum RelationOperator: String, Equatable, Sendable, CaseIterable {
  case translation, diagonal, complex
}

/// One edge type: `lhs` and `rhs` name tables (the original's `model.relations[i]`).
public struct RelationSpec: Equatable, Sendable {
  public var name: String
  public var lhs: String
  public var rhs: String
  public var `operator`: RelationOperator

  public init(name: String, lhs: String, rhs: String, operator op: RelationOperator = .translation) {
    self.name = name
    self.lhs = lhs
    self.rhs = rhs
    self.operator = op
  }
}

/// The node and edge types of a heterogeneous graph, validated and indexed: tables by
/// position, relations by position, and for relation r the table indices
/// `lhsTable[r]`, `rhsTable[r]` (the original's `relations_t`).
///
///     let schema = try GraphSchema(
///       tables: [TableSpec(name: "user", numEmbeddings: 1000), TableSpec(name: "tweet", numEmbeddings: 500)],
///       relations: [RelationSpec(name: "fav", lhs: "user", rhs: "tweet")])
///     schema.rhsTable[0]   // 1
public struct GraphSchema: Equatable, Sendable {
  public let tables: [TableSpec]
  public let relations: [RelationSpec]
  /// Table index of each relation's lhs.
  public let lhsTable: [Int]
  /// Table index of each relation's rhs.
  public let rhsTable: [Int]

  public init(tables: [TableSpec], relations: [RelationSpec]) throws {
    guard !tables.isEmpty else { throw TwHINError("TwHIN schema: no embedding tables; list at least one under model.embeddings.tables") }
    guard !relations.isEmpty else { throw TwHINError("TwHIN schema: no relations; list at least one under model.relations") }
    var tableIndex: [String: Int] = [:]
    for (i, t) in tables.enumerated() {
      guard !t.name.isEmpty else { throw TwHINError("TwHIN schema: table \(i) has an empty name") }
      guard tableIndex[t.name] == nil else {
        throw TwHINError("TwHIN schema: table \"\(t.name)\" is listed twice; table names must be unique")
      }
      guard t.numEmbeddings > 0 else {
        throw TwHINError("TwHIN schema: table \"\(t.name)\" has num_embeddings \(t.numEmbeddings); it must be ≥ 1")
      }
      tableIndex[t.name] = i
    }
    var seen = Set<String>()
    var lhs: [Int] = [], rhs: [Int] = []
    let known = tables.map(\.name).joined(separator: ", ")
    for r in relations {
      guard seen.insert(r.name).inserted else {
        throw TwHINError("TwHIN schema: relation \"\(r.name)\" is listed twice; relation names must be unique")
      }
      guard let l = tableIndex[r.lhs] else {
        throw TwHINError("TwHIN schema: relation \"\(r.name)\" has lhs \"\(r.lhs)\", which is not a table (tables: \(known))")
      }
      guard let h = tableIndex[r.rhs] else {
        throw TwHINError("TwHIN schema: relation \"\(r.name)\" has rhs \"\(r.rhs)\", which is not a table (tables: \(known))")
      }
      lhs.append(l)
      rhs.append(h)
    }
    self.tables = tables
    self.relations = relations
    lhsTable = lhs
    rhsTable = rhs
  }

  /// The position of the table called `name`.
  public func tableIndex(named name: String) throws -> Int {
    guard let i = tables.firstIndex(where: { $0.name == name }) else {
      throw TwHINError("TwHIN: unknown table \"\(name)\" (tables: \(tables.map(\.name).joined(separator: ", ")))")
    }
    return i
  }

  /// The position of the relation called `name`.
  public func relationIndex(named name: String) throws -> Int {
    guard let i = relations.firstIndex(where: { $0.name == name }) else {
      throw TwHINError("TwHIN: unknown relation \"\(name)\" (relations: \(relations.map(\.name).joined(separator: ", ")))")
    }
    return i
  }

  /// Throws unless `relation` is a valid relation index.
  public func checkRelation(_ relation: Int, context: @autoclosure () -> String) throws {
    guard relation >= 0 && relation < relations.count else {
      throw TwHINError("\(context()): unknown relation id \(relation); the schema has \(relations.count) relations (\(relations.enumerated().map { "\($0.offset)=\($0.element.name)" }.joined(separator: ", ")))")
    }
  }

  /// Throws unless `id` is a row of table `table`, naming the relation side it came from.
  public func checkID(_ id: Int, table: Int, context: @autoclosure () -> String) throws {
    let t = tables[table]
    guard id >= 0 && id < t.numEmbeddings else {
      throw TwHINError("\(context()): id \(id) is outside table \"\(t.name)\" (rows 0..<\(t.numEmbeddings)); remap ids to the table or enlarge num_embeddings")
    }
  }
}
