import TMLTensor

/// The negatives of one relation r present in a batch, shared by all of its R edges
/// (so they are scored with one GEMM, as in the original):
///
///     lhs candidates  = [lhs of r's edges at lhsInBatch]  ++  [lhs-table rows lhsGlobal]   (K_l of them)
///     rhs candidates  = [rhs of r's edges at rhsInBatch]  ++  [rhs-table rows rhsGlobal]   (K_r of them)
///
/// `lhsInBatch` / `rhsInBatch` index r's edges in batch order (0..<R), like the
/// original's `randperm(R)`; the global ids are rows of the relation's lhs / rhs table.
public struct RelationNegatives: Equatable, Sendable {
  public var relation: Int
  public var lhsInBatch: [Int]
  public var rhsInBatch: [Int]
  public var lhsGlobal: [Int]
  public var rhsGlobal: [Int]

  public init(relation: Int, lhsInBatch: [Int], rhsInBatch: [Int], lhsGlobal: [Int] = [], rhsGlobal: [Int] = []) {
    self.relation = relation
    self.lhsInBatch = lhsInBatch
    self.rhsInBatch = rhsInBatch
    self.lhsGlobal = lhsGlobal
    self.rhsGlobal = rhsGlobal
  }

  /// K_l: lhs candidates paired with each edge's rhs.
  public var lhsCount: Int { lhsInBatch.count + lhsGlobal.count }
  /// K_r: rhs candidates paired with each edge's lhs.
  public var rhsCount: Int { rhsInBatch.count + rhsGlobal.count }
}

/// Draws the negatives of a batch (DESIGN §8). For each relation present with R edges:
///
///     in-batch:  S = inBatchNegatives positions of r's edges for each side, from a random
///                permutation of 0..<R repeated ⌈S/R⌉ times and cut to S (the original's
///                `randperm(R).repeat(ceil(S/R))[:S]`: without replacement while S ≤ R)
///     global:    G = globalNegatives rows drawn uniformly (with replacement) from the
///                relation's whole lhs table and, separately, its whole rhs table
///
/// `sides` says which ends are corrupted (`negative_sides`): with [rhs] only the rhs
/// candidates are drawn (K_l = 0: each lhs is scored against other rhs rows, never each rhs
/// against other lhs rows); the default [lhs, rhs] is the original's. Every draw comes from
/// the caller's `RandomGenerator`, so a seeded stream reproduces the negatives exactly (and
/// both sides draw exactly what they drew before `sides` existed).
///
///     let sampler = NegativeSampler(inBatchNegatives: 10, globalNegatives: 0)
///     let negs = sampler.sample(batch, schema: model.schema, using: &rng)
public struct NegativeSampler: Equatable, Sendable {
  public var inBatchNegatives: Int
  public var globalNegatives: Int
  public var sides: Set<TwHINSide>

  public init(inBatchNegatives: Int, globalNegatives: Int = 0, sides: [TwHINSide] = TwHINSide.allCases) throws {
    guard inBatchNegatives >= 0, globalNegatives >= 0 else {
      throw TwHINError("NegativeSampler: in_batch_negatives (\(inBatchNegatives)) and global_negatives (\(globalNegatives)) must be ≥ 0")
    }
    guard !sides.isEmpty else { throw TwHINError("NegativeSampler: negative_sides is empty; name lhs, rhs or both") }
    self.inBatchNegatives = inBatchNegatives
    self.globalNegatives = globalNegatives
    self.sides = Set(sides)
  }

  public func sample(_ batch: EdgeBatch, schema: GraphSchema, using rng: inout RandomGenerator) -> [RelationNegatives] {
    let (left, right) = (sides.contains(.lhs), sides.contains(.rhs))
    return batch.presentRelations.map { r in
      let count = batch.positionsByRelation[r].count
      let lhsIn = left ? inBatch(count, &rng) : [], rhsIn = right ? inBatch(count, &rng) : []
      let nl = schema.tables[schema.lhsTable[r]].numEmbeddings, nr = schema.tables[schema.rhsTable[r]].numEmbeddings
      let lhsG = left ? (0..<globalNegatives).map { _ in rng.int(below: nl) } : []
      let rhsG = right ? (0..<globalNegatives).map { _ in rng.int(below: nr) } : []
      return RelationNegatives(relation: r, lhsInBatch: lhsIn, rhsInBatch: rhsIn, lhsGlobal: lhsG, rhsGlobal: rhsG)
    }
  }

  private func inBatch(_ count: Int, _ rng: inout RandomGenerator) -> [Int] {
    guard inBatchNegatives > 0, count > 0 else { return [] }
    let perm = rng.permutation(count)
    return (0..<inBatchNegatives).map { perm[$0 % count] }
  }
}

extension RelationNegatives {
  /// Checks these negatives fit `batch` and `schema`: a relation present in the batch,
  /// in-batch positions inside 0..<R, global ids inside their tables.
  func validate(batch: EdgeBatch, schema: GraphSchema) throws {
    try schema.checkRelation(relation, context: "negatives")
    let name = schema.relations[relation].name
    let count = batch.positionsByRelation[relation].count
    guard count > 0 else {
      throw TwHINError("negatives: relation \"\(name)\" (id \(relation)) has no edge in this batch, so it cannot have negatives")
    }
    for (side, list) in [("lhsInBatch", lhsInBatch), ("rhsInBatch", rhsInBatch)] {
      if let bad = list.first(where: { $0 < 0 || $0 >= count }) {
        throw TwHINError("negatives: relation \"\(name)\" \(side) position \(bad) is outside its \(count) edges in the batch (positions 0..<\(count))")
      }
    }
    for id in lhsGlobal { try schema.checkID(id, table: schema.lhsTable[relation], context: "negatives: relation \"\(name)\" global lhs") }
    for id in rhsGlobal { try schema.checkID(id, table: schema.rhsTable[relation], context: "negatives: relation \"\(name)\" global rhs") }
  }
}
