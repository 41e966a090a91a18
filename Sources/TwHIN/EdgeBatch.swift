import TMLTensor

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
      try schema.checkID(lhs[i], table: schema.lhsTable[r], context: "EdgeBatch edge \(i) (relation \"\(schema.relations[r].name)\", lhs)")
      try schema.checkID(rhs[i], table: schema.rhsTable[r], context: "EdgeBatch edge \(i) (relation \"\(schema.relations[r].name)\", rhs)")
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
/// split; the three columns always have the same length. `batches(of:schema:)` cuts it
/// into validated `EdgeBatch`es.
///
///     var edges = try EdgeList(lhs: [0, 1], relations: [0, 0], rhs: [5, 9])
///     edges.append(lhs: 2, relation: 0, rhs: 7)
///     for b in try edges.batches(of: 512, schema: schema) { ... }
public struct EdgeList: Equatable, Sendable {
  public private(set) var lhs: [Int]
  public private(set) var relations: [Int]
  public private(set) var rhs: [Int]

  public init() {
    lhs = []
    relations = []
    rhs = []
  }

  public init(lhs: [Int], relations: [Int], rhs: [Int]) throws {
    guard lhs.count == relations.count, rhs.count == relations.count else {
      throw TwHINError("EdgeList: lhs (\(lhs.count)), relations (\(relations.count)) and rhs (\(rhs.count)) must have one value per edge")
    }
    self.init(unchecked: lhs, relations, rhs)
  }

  init(unchecked lhs: [Int], _ relations: [Int], _ rhs: [Int]) {
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

  /// The edges followed by `other`'s.
  public func appending(_ other: EdgeList) -> EdgeList {
    EdgeList(unchecked: lhs + other.lhs, relations + other.relations, rhs + other.rhs)
  }

  /// The first `n` edges (all of them when n ≥ count).
  public func prefix(_ n: Int) -> EdgeList {
    let k = max(0, min(n, count))
    return EdgeList(unchecked: Array(lhs[..<k]), Array(relations[..<k]), Array(rhs[..<k]))
  }

  /// The edges in a uniformly random order drawn from `rng` (shuffling between epochs).
  public func shuffled(using rng: inout RandomGenerator) -> EdgeList {
    let p = rng.permutation(count)
    return EdgeList(unchecked: p.map { lhs[$0] }, p.map { relations[$0] }, p.map { rhs[$0] })
  }

  /// Consecutive batches of `size` edges (the last may be smaller), validated against `schema`.
  public func batches(of size: Int, schema: GraphSchema) throws -> [EdgeBatch] {
    guard size > 0 else { throw TwHINError("EdgeList.batches: batch size must be ≥ 1, got \(size)") }
    return try stride(from: 0, to: count, by: size).map { start in
      let r = start..<min(start + size, count)
      return try EdgeBatch(lhs: Array(lhs[r]), relations: Array(relations[r]), rhs: Array(rhs[r]), schema: schema)
    }
  }
}
