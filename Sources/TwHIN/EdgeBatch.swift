/// A batch of B positive edges (lhs_i, rel_i, rhs_i), with the table of each relation's
/// lhs and rhs (the original's `EdgeBatch` plus its `relations_t`): edge i looks up row
/// `lhs[i]` of table `lhsTable[rel[i]]` and row `rhs[i]` of table `rhsTable[rel[i]]`.
///
/// The initializer validates every id against its table and every relation id against
/// the schema, naming the first bad edge, so nothing downstream can index out of range.
///
///     let batch = try EdgeBatch(lhs: [3, 7], relations: [0, 0], rhs: [12, 40], schema: schema)
///     batch.positionsByRelation   // [[0, 1]]  (edges of relation 0, in batch order)
public struct EdgeBatch: Equatable, Sendable {
  public let lhs: [Int]
  public let relations: [Int]
  public let rhs: [Int]
  /// Table index of relation r's lhs / rhs, for every relation of the schema.
  public let lhsTable: [Int]
  public let rhsTable: [Int]
  /// For each relation of the schema, the batch positions of its edges (ascending).
  public let positionsByRelation: [[Int]]

  public var count: Int { lhs.count }

  public init(lhs: [Int], relations: [Int], rhs: [Int], schema: GraphSchema) throws {
    guard lhs.count == relations.count, rhs.count == relations.count else {
      throw TwHINError("EdgeBatch: lhs (\(lhs.count)), relations (\(relations.count)) and rhs (\(rhs.count)) must have one value per edge")
    }
    var groups = [[Int]](repeating: [], count: schema.relations.count)
    for i in 0..<lhs.count {
      let r = relations[i]
      try schema.checkRelation(r, context: "EdgeBatch edge \(i)")
      let name = schema.relations[r].name
      try schema.checkID(lhs[i], table: schema.lhsTable[r], context: "EdgeBatch edge \(i) (relation \"\(name)\", lhs)")
      try schema.checkID(rhs[i], table: schema.rhsTable[r], context: "EdgeBatch edge \(i) (relation \"\(name)\", rhs)")
      groups[r].append(i)
    }
    self.lhs = lhs
    self.relations = relations
    self.rhs = rhs
    lhsTable = schema.lhsTable
    rhsTable = schema.rhsTable
    positionsByRelation = groups
  }

  /// Relations with at least one edge in the batch, ascending.
  public var presentRelations: [Int] { positionsByRelation.indices.filter { !positionsByRelation[$0].isEmpty } }

  /// Edges `range` of this batch as a new batch.
  public func slice(_ range: Range<Int>, schema: GraphSchema) throws -> EdgeBatch {
    guard range.lowerBound >= 0, range.upperBound <= count else {
      throw TwHINError("EdgeBatch.slice: range \(range) is outside the batch's \(count) edges")
    }
    return try EdgeBatch(lhs: Array(lhs[range]), relations: Array(relations[range]), rhs: Array(rhs[range]), schema: schema)
  }
}

/// A list of edges held column-wise (lhs, relation, rhs), e.g. a training or held-out
/// split; `batches(of:)` cuts it into `EdgeBatch`es.
///
///     let edges = EdgeList(lhs: [0, 1], relations: [0, 0], rhs: [5, 9])
///     for b in try edges.batches(of: 512, schema: schema) { ... }
public struct EdgeList: Equatable, Sendable {
  public var lhs: [Int]
  public var relations: [Int]
  public var rhs: [Int]

  public init(lhs: [Int] = [], relations: [Int] = [], rhs: [Int] = []) {
    self.lhs = lhs
    self.relations = relations
    self.rhs = rhs
  }

  public var count: Int { lhs.count }

  public mutating func append(lhs l: Int, relation r: Int, rhs h: Int) {
    lhs.append(l)
    relations.append(r)
    rhs.append(h)
  }

  /// The edges in the order of `permutation` (shuffling between epochs).
  public func permuted(_ permutation: [Int]) -> EdgeList {
    EdgeList(lhs: permutation.map { lhs[$0] }, relations: permutation.map { relations[$0] }, rhs: permutation.map { rhs[$0] })
  }

  /// Consecutive batches of `size` edges (the last may be smaller), validated against `schema`.
  public func batches(of size: Int, schema: GraphSchema) throws -> [EdgeBatch] {
    guard size > 0 else { throw TwHINError("EdgeList.batches: batch size must be ≥ 1, got \(size)") }
    guard relations.count == lhs.count, rhs.count == lhs.count else {
      throw TwHINError("EdgeList: lhs (\(lhs.count)), relations (\(relations.count)) and rhs (\(rhs.count)) must have one value per edge")
    }
    return try stride(from: 0, to: count, by: size).map { start in
      let r = start..<min(start + size, count)
      return try EdgeBatch(lhs: Array(lhs[r]), relations: Array(relations[r]), rhs: Array(rhs[r]), schema: schema)
    }
  }
}
