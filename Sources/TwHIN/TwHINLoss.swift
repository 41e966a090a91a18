import TMLTensor

/// Where one relation's scores sit in `TwHINForward.logits`, and which nodes were scored.
///
/// For relation r with R edges (batch `positions`), lhs block L [R, D], rhs block V [R, D]:
///
///     negatives of the lhs side  (each rhs vs K_l lhs candidates):  op_r(V) · C_lᵀ   [R, K_l] at lhsNegativeOffset
///     negatives of the rhs side  (each lhs vs K_r rhs candidates):  L · op_r(C_r)ᵀ   [R, K_r] at rhsNegativeOffset
///
/// both row-major; `lhsCandidates` / `rhsCandidates` are the candidates' table ids.
public struct RelationScoreBlock: Equatable, Sendable {
  public var relation: Int
  public var positions: [Int]
  public var lhsCandidates: [Int]
  public var rhsCandidates: [Int]
  public var lhsNegativeOffset: Int
  public var rhsNegativeOffset: Int
}

/// The result of `TwHINLoss` on one batch: logits laid out as the original's
/// `[positives (batch order), for each present relation r ascending: lhs-side negatives, rhs-side negatives]`,
/// with their labels and weights, the loss, and the layout.
public struct TwHINForward {
  public let logits: Tensor
  public let labels: Tensor
  public let weights: Tensor
  /// Scalar loss; `loss.backward()` updates fused tables and fills the translations' grad.
  public let loss: Tensor
  public let batchSize: Int
  public let negativeCount: Int
  public let blocks: [RelationScoreBlock]

  /// Positive scores s(u_i, r_i, v_i) in batch order.
  public var positiveScores: [Float] { Array(logits.scalars[0..<batchSize]) }
  /// All negative scores.
  public var negativeScores: [Float] { Array(logits.scalars[batchSize...]) }
}

/// TwHIN's training objective with in-batch and global negatives (DESIGN §8, the
/// original's `TwhinModel.forward` + `TwhinModelAndLoss` with its defects fixed):
///
///     positives   s_i = ⟨e_{u_i}, e_{v_i} + t_{r_i}⟩                         label 1, weight 1
///     negatives   ⟨e_{u'}, e_{v_i} + t_r⟩ (lhs side), ⟨e_{u_i}, e_{v'} + t_r⟩ (rhs side)
///                                                                           label 0, weight B / N
///     loss        = (1 / (B + N)) Σ_k w_k · BCEWithLogits(z_k, y_k)
///
/// B = batch size, N = Σ_r R_r·(K_l + K_r) negatives (2·B·(S + G) when every relation
/// has S in-batch and G global negatives per side), so positives and negatives carry
/// equal total weight, as the original intends. Unlike the original, negatives are
/// labelled 0 (it labels them 1), the translation t_r is applied to negatives, and t_r is
/// part of the graph (the original reads `.data`, so it never trains). With another
/// relation operator, every `e + t_r` above reads op_r(e) (`RelationOperator`).
///
/// Gradients reach each table once per batch through its sparse lookup (a fused
/// optimizer, or `EmbeddingTable.sparseGradient` when none is fused) and the translations
/// through `translations.grad`.
///
///     let loss = try TwHINLoss(inBatchNegatives: 10, globalNegatives: 0)
///     let out = try loss(model, batch, using: &rng)      // or negatives: explicit
///     try out.loss.backward()
public struct TwHINLoss: Equatable, Sendable {
  public var sampler: NegativeSampler

  public init(inBatchNegatives: Int, globalNegatives: Int = 0, sides: [TwHINSide] = TwHINSide.allCases) throws {
    sampler = try NegativeSampler(inBatchNegatives: inBatchNegatives, globalNegatives: globalNegatives, sides: sides)
  }

  /// Samples the negatives from `rng`, then scores the batch.
  public func callAsFunction(_ model: TwHINModel, _ batch: EdgeBatch, using rng: inout RandomGenerator) throws -> TwHINForward {
    try checkBatch(model, batch)
    return try self(model, batch, negatives: sampler.sample(batch, schema: model.schema, using: &rng))
  }

  /// Scores the batch against the given negatives: one entry per relation present in
  /// the batch (any order; laid out by ascending relation).
  public func callAsFunction(_ model: TwHINModel, _ batch: EdgeBatch, negatives: [RelationNegatives]) throws -> TwHINForward {
    try checkBatch(model, batch)
    let schema = model.schema
    let byRelation = try arrange(negatives, batch, schema)
    let present = batch.presentRelations

    // One lookup per table: every row this batch touches, deduplicated.
    var ids = [[Int]](repeating: [], count: schema.tables.count)
    var slots = [[Int: Int]](repeating: [:], count: schema.tables.count)
    func local(_ t: Int, _ id: Int) -> Int {
      if let s = slots[t][id] { return s }
      slots[t][id] = ids[t].count
      ids[t].append(id)
      return ids[t].count - 1
    }
    struct Plan { var lhs: [Int]; var rhs: [Int]; var lhsGlobal: [Int]; var rhsGlobal: [Int] }
    var plans: [Int: Plan] = [:]
    for r in present {
      let (a, b) = (schema.lhsTable[r], schema.rhsTable[r])
      let pos = batch.positionsByRelation[r], n = byRelation[r]!
      plans[r] = Plan(lhs: pos.map { local(a, batch.lhs[$0]) }, rhs: pos.map { local(b, batch.rhs[$0]) },
                      lhsGlobal: n.lhsGlobal.map { local(a, $0) }, rhsGlobal: n.rhsGlobal.map { local(b, $0) })
    }
    var rows = [Tensor?](repeating: nil, count: schema.tables.count)
    for t in ids.indices where !ids[t].isEmpty { rows[t] = try model.lookup(table: t, ids: ids[t]) }

    let bsz = batch.count
    let totalNegatives = present.reduce(0) { $0 + batch.positionsByRelation[$1].count * (byRelation[$1]!.lhsCount + byRelation[$1]!.rhsCount) }
    var positives: [Tensor] = [], negativeParts: [Tensor] = [], blocks: [RelationScoreBlock] = []
    var offset = bsz
    for r in present {
      let plan = plans[r]!, n = byRelation[r]!, pos = batch.positionsByRelation[r]
      let ea = rows[schema.lhsTable[r]]!, eb = rows[schema.rhsTable[r]]!
      let lhsBlock = try ea.gatherRows(IndexTensor(plan.lhs))           // L   [R, D]
      let rhsBlock = try eb.gatherRows(IndexTensor(plan.rhs))           // V   [R, D]
      let t = try model.translations.value.gatherRows(IndexTensor([r])) // t_r [1, D]
      let op = schema.relations[r].operator
      let translated = try op.apply(rhsBlock, t)                        // op_r(V)
      positives.append(try (lhsBlock * translated).sum(axis: 1))
      let block = RelationScoreBlock(
        relation: r, positions: pos,
        lhsCandidates: n.lhsInBatch.map { batch.lhs[pos[$0]] } + n.lhsGlobal,
        rhsCandidates: n.rhsInBatch.map { batch.rhs[pos[$0]] } + n.rhsGlobal,
        lhsNegativeOffset: offset, rhsNegativeOffset: offset + pos.count * n.lhsCount)
      if let c = try candidates(lhsBlock, n.lhsInBatch, ea, plan.lhsGlobal) {
        negativeParts.append(try Tensor.matmul(translated, c, transposeB: true).reshaped(to: [-1]))
      }
      if let c = try candidates(rhsBlock, n.rhsInBatch, eb, plan.rhsGlobal) {
        negativeParts.append(try Tensor.matmul(lhsBlock, try op.apply(c, t), transposeB: true).reshaped(to: [-1]))
      }
      offset += pos.count * (n.lhsCount + n.rhsCount)
      blocks.append(block)
    }

    // Positives back in batch order.
    var grouped = positives.count == 1 ? positives[0] : try Tensor.concat(positives, axis: 0)
    let order = present.flatMap { batch.positionsByRelation[$0] }
    if order != Array(0..<bsz) {
      var inverse = [Int](repeating: 0, count: bsz)
      for (k, p) in order.enumerated() { inverse[p] = k }
      grouped = try grouped.gatherRows(IndexTensor(inverse))
    }
    let logits = negativeParts.isEmpty ? grouped : try Tensor.concat([grouped] + negativeParts, axis: 0)
    let negWeight = totalNegatives > 0 ? Float(bsz) / Float(totalNegatives) : 0
    let labels = try Tensor(shape: [bsz + totalNegatives], scalars: [Float](repeating: 1, count: bsz) + [Float](repeating: 0, count: totalNegatives))
    let weights = try Tensor(shape: [bsz + totalNegatives], scalars: [Float](repeating: 1, count: bsz) + [Float](repeating: negWeight, count: totalNegatives))
    let loss = try Tensor.bceWithLogits(logits, labels: labels, weight: weights, reduction: .mean)
    return TwHINForward(logits: logits, labels: labels, weights: weights, loss: loss, batchSize: bsz,
                        negativeCount: totalNegatives, blocks: blocks)
  }

  /// The negatives by relation index, validated: one entry for each relation present in
  /// the batch, none for the others.
  func arrange(_ negatives: [RelationNegatives], _ batch: EdgeBatch, _ schema: GraphSchema) throws -> [RelationNegatives?] {
    var byRelation = [RelationNegatives?](repeating: nil, count: schema.relations.count)
    for n in negatives {
      try n.validate(batch: batch, schema: schema)
      guard byRelation[n.relation] == nil else {
        throw TwHINError("negatives: relation \"\(schema.relations[n.relation].name)\" is given twice; pass one entry per relation")
      }
      byRelation[n.relation] = n
    }
    for r in batch.presentRelations where byRelation[r] == nil {
      throw TwHINError("negatives: relation \"\(schema.relations[r].name)\" has \(batch.positionsByRelation[r].count) edges in the batch but no negatives entry (pass empty lists for none)")
    }
    return byRelation
  }

  /// [in-batch rows of `block` at `inBatch`] ++ [rows `global` of the table lookup], or nil when empty.
  private func candidates(_ block: Tensor, _ inBatch: [Int], _ table: Tensor, _ global: [Int]) throws -> Tensor? {
    var parts: [Tensor] = []
    if !inBatch.isEmpty { parts.append(try block.gatherRows(IndexTensor(inBatch))) }
    if !global.isEmpty { parts.append(try table.gatherRows(IndexTensor(global))) }
    if parts.count <= 1 { return parts.first }
    return try Tensor.concat(parts, axis: 0)
  }

  /// The batch must be non-empty, built for this model's schema, with ids inside the model's tables.
  func checkBatch(_ model: TwHINModel, _ batch: EdgeBatch) throws { try checkBatch(model.schema, batch) }

  func checkBatch(_ schema: GraphSchema, _ batch: EdgeBatch) throws {
    guard batch.count > 0 else { throw TwHINError("TwHINLoss: the batch has no edges") }
    guard batch.lhsTable == schema.lhsTable, batch.rhsTable == schema.rhsTable else {
      throw TwHINError("TwHINLoss: the batch was built for another schema (relation → table maps differ: lhs \(batch.lhsTable) vs \(schema.lhsTable), rhs \(batch.rhsTable) vs \(schema.rhsTable))")
    }
    for i in 0..<batch.count {
      let r = batch.relations[i]
      try schema.checkID(batch.lhs[i], table: schema.lhsTable[r], context: "TwHINLoss: edge \(i) (relation \"\(schema.relations[r].name)\", lhs)")
      try schema.checkID(batch.rhs[i], table: schema.rhsTable[r], context: "TwHINLoss: edge \(i) (relation \"\(schema.relations[r].name)\", rhs)")
    }
  }
}
