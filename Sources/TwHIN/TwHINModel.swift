import TMLNN
import TMLTensor

/// How the embedding tables are initialised.
///
///     torchrecUniform   W ~ U(−√(1/N), √(1/N)), N = num_embeddings   (the original: torchrec's
///                       EmbeddingBagConfig default, weight_init_min/max unset)
///     normal(std: σ)    W ~ N(0, σ²)
///     uniform(a, b)     W ~ U(a, b)
public enum EmbeddingInit: Equatable, Sendable {
  case torchrecUniform
  case normal(std: Float)
  case uniform(low: Float, high: Float)
}

/// How the relation translations `all_trans_embs` are initialised. The original uses
/// `torch.nn.init.uniform_` with its defaults, i.e. U(0, 1): `.uniform(low: 0, high: 1)`.
public enum TranslationInit: Equatable, Sendable {
  case uniform(low: Float, high: Float)
  case normal(std: Float)
  case zeros
}

/// The TwHIN model: one embedding table per node type and one parameter vector per
/// relation, scoring an edge (u, r, v) with the relation's operator and the dot
/// comparator:
///
///     s(u, r, v) = ⟨e_u, op_r(e_v)⟩,   e_u = W_lhs(r)[u],  e_v = W_rhs(r)[v],  t_r = all_trans_embs[r]
///
/// op_r(v) = v + t_r for `translation` (the original's only operator), t_r ∘ v for
/// `diagonal`, t_r ⊛ v for `complex` (`RelationOperator`).
///
/// State names are the original's (`TwhinModel.state_dict()`):
/// `all_trans_embs` [num_relations, dim] and
/// `large_embeddings.ebc.embedding_bags.<table>.weight` [num_embeddings, dim].
/// Table lookups go through `EmbeddingTable`, so their gradients are sparse and, once a
/// `SparseRowOptimizer` is fused (`TwHINTrainer` does it), applied during backward;
/// the translations are a dense `Parameter` trained by the translation optimizer.
/// (`TwHINTrainer` runs its steps through the equivalent fused kernels of
/// `TwHINFusedStep`, without the autograd tape.)
///
///     let model = try TwHINModel(schema: schema, dim: 16, seed: 7)
///     let s = try model.score(lhs: 3, relation: 0, rhs: 12)
public final class TwHINModel: Module {
  public let schema: GraphSchema
  public let dim: Int
  /// One table per `schema.tables` entry, in that order.
  public let tables: [EmbeddingTable]
  /// t_r, [num_relations, dim].
  public let translations: Parameter
  public var isTraining = true
  let largeEmbeddings: LargeEmbeddingsModule

  /// Builds the tables and translations. Table k draws from `RandomGenerator(seed, stream: k + 1)`,
  /// the translations from stream 0, so adding a table leaves the others unchanged.
  /// With `identityOperators` (the default), the rows of `diagonal` and `complex`
  /// relations start at the identity (ones; 1 + 0i), as PBG's operators do, and only the
  /// translations follow `translationInit`.
  public init(
    schema: GraphSchema, dim: Int, embeddingInit: EmbeddingInit = .torchrecUniform,
    translationInit: TranslationInit = .uniform(low: 0, high: 1), identityOperators: Bool = true, seed: UInt64 = 0
  ) throws {
    guard dim > 0 else { throw TwHINError("TwHINModel: embedding_dim must be ≥ 1, got \(dim)") }
    if dim % 2 != 0, let r = schema.relations.first(where: { $0.operator == .complex }) {
      throw TwHINError("TwHINModel: relation \"\(r.name)\" uses operator complex, which splits a vector into real and imaginary halves, but embedding_dim is \(dim); use an even embedding_dim")
    }
    self.schema = schema
    self.dim = dim
    var bags: [EmbeddingTable] = []
    for (k, spec) in schema.tables.enumerated() {
      var rng = RandomGenerator(seed: seed, stream: UInt64(k + 1))
      bags.append(try EmbeddingTable(rows: spec.numEmbeddings, dim: dim, init: embeddingInit, rng: &rng))
    }
    tables = bags
    var rng = RandomGenerator(seed: seed, stream: 0)
    let r = schema.relations.count
    switch translationInit {
    case .uniform(let a, let b): translations = Parameter(Tensor.uniform([r, dim], low: a, high: b, using: &rng))
    case .normal(let s): translations = Parameter(Tensor.normal([r, dim], std: s, using: &rng))
    case .zeros: translations = Parameter(Tensor.zeros([r, dim]))
    }
    if identityOperators {
      translations.value.withUnsafeMutableBufferPointer { p in
        for (k, rel) in schema.relations.enumerated() {
          guard let row = rel.operator.identityParameter(dim: dim) else { continue }
          for j in 0..<dim { p[k * dim + j] = row[j] }
        }
      }
    }
    largeEmbeddings = LargeEmbeddingsModule(names: schema.tables.map(\.name), tables: bags)
  }

  public var parameters: [(String, Parameter)] { [("all_trans_embs", translations)] }
  public var children: [(String, any Module)] { [("large_embeddings", largeEmbeddings)] }

  /// The table called `name`.
  public func table(named name: String) throws -> EmbeddingTable { tables[try schema.tableIndex(named: name)] }

  /// Rows `ids` of table `table` as [ids.count, dim]. With grad mode on, the result
  /// carries the table's sparse backward (fused optimizer or `sparseGradient`).
  public func lookup(table: Int, ids: [Int]) throws -> Tensor {
    guard table >= 0 && table < tables.count else {
      throw TwHINError("TwHINModel.lookup: table index \(table) is outside the \(tables.count) tables")
    }
    for (i, id) in ids.enumerated() {
      try schema.checkID(id, table: table, context: "TwHINModel.lookup (position \(i))")
    }
    return try tables[table].lookup(ids)
  }

  /// s(u, r, v) = ⟨e_u, op_r(e_v)⟩ for one edge, without recording gradients.
  public func score(lhs: Int, relation: Int, rhs: Int) throws -> Float {
    try schema.checkRelation(relation, context: "TwHINModel.score")
    let name = schema.relations[relation].name
    try schema.checkID(lhs, table: schema.lhsTable[relation], context: "TwHINModel.score (relation \"\(name)\", lhs)")
    try schema.checkID(rhs, table: schema.rhsTable[relation], context: "TwHINModel.score (relation \"\(name)\", rhs)")
    let u = tables[schema.lhsTable[relation]].weight.value, v = tables[schema.rhsTable[relation]].weight.value
    let t = translations.value
    let d = dim
    return u.withUnsafeBufferPointer { up in
      v.withUnsafeBufferPointer { vp in
        t.withUnsafeBufferPointer { tp in
          var transformed = [Float](repeating: 0, count: d)
          transformed.withUnsafeMutableBufferPointer { o in
            schema.relations[relation].operator.apply(tp.baseAddress! + relation * d, vp.baseAddress! + rhs * d, o.baseAddress!, d)
          }
          var s: Float = 0
          for j in 0..<d { s += up[lhs * d + j] * transformed[j] }
          return s
        }
      }
    }
  }

  /// Fuses `optimizer` into table `table` (torchrec's optimizer in backward).
  public func fuse(table: Int, _ optimizer: any SparseRowOptimizer) { tables[table].fuse(optimizer) }

  /// Clears the translations' gradient and any accumulated (unfused) table gradients.
  public func zeroAllGrads() {
    translations.zeroGrad()
    for t in tables { t.zeroSparseGrad() }
  }
}

/// `large_embeddings` → `ebc` → `embedding_bags` → `<table>`: the original's
/// LargeEmbeddings / EmbeddingBagCollection nesting, for state-dict names only.
final class LargeEmbeddingsModule: Module {
  var isTraining = true
  let ebc: ModuleList
  init(names: [String], tables: [EmbeddingTable]) {
    let bags = ModuleList(named: zip(names, tables).map { ($0, $1 as any Module) })
    ebc = ModuleList(named: [("embedding_bags", bags)])
  }
  var children: [(String, any Module)] { [("ebc", ebc)] }
}
