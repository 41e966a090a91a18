import TMLDistributed
import TMLNN
import TMLTensor
import TMLTrain

/// The ids of one feature for a batch of B examples: example k's bag is
/// `ids[offsets[k] ..< offsets[k + 1]]` (the last bag ends at `ids.count`).
public struct IdBags: Equatable, Sendable {
  public var ids: [Int]
  public var offsets: [Int]
  public init(ids: [Int], offsets: [Int]) {
    self.ids = ids
    self.offsets = offsets
  }
  public var count: Int { offsets.count }
}

/// One id-embedding table of the ranker: `numEmbeddings` rows of `embeddingDim`.
/// For `large_embeddings` the ids come from the batch feature named `name` (the
/// original's `feature_names=[table.name]`); for `small_embeddings` from column
/// `discreteIndex` of the discrete features.
public struct IdEmbeddingTableSpec: Equatable, Sendable {
  public var name: String
  public var numEmbeddings: Int
  public var embeddingDim: Int
  public var discreteIndex: Int?
  public init(name: String, numEmbeddings: Int, embeddingDim: Int, discreteIndex: Int? = nil) {
    self.name = name
    self.numEmbeddings = numEmbeddings
    self.embeddingDim = embeddingDim
    self.discreteIndex = discreteIndex
  }
}

/// One table of an `EmbeddingBagCollection`: whole in this process (`EmbeddingBag`) or
/// row-sharded over the ranks (`RowShardedEmbeddingBag`); `pooled` sums each bag's rows.
public protocol PooledIdTable: Module {
  var weight: Parameter { get }
  func pooled(_ bags: IdBags) throws -> Tensor
  /// Applies `optimizer` to the looked-up rows during backward.
  func fuse(_ optimizer: any SparseRowOptimizer)
}

extension EmbeddingBag: PooledIdTable {
  public func pooled(_ bags: IdBags) throws -> Tensor { try self(indices: IndexTensor(bags.ids), offsets: IndexTensor(bags.offsets)) }
}

extension RowShardedEmbeddingBag: PooledIdTable {
  public func pooled(_ bags: IdBags) throws -> Tensor { try self(ids: bags.ids, offsets: bags.offsets) }
}

/// torchrec's `EmbeddingBagCollection` as a state-dict container: one sum-pooled
/// `EmbeddingBag` per table, named `embedding_bags.<table>.weight`. Tables start
/// uniform in ±√(1/num_embeddings) (torchrec's default initialiser), row i of a table
/// drawn from its own stream (the table's seed, i), so a table sharded over any number of
/// ranks (`communicator`, each rank making only its rows) starts as the whole one does.
public final class EmbeddingBagCollection: Module {
  public let tables: [IdEmbeddingTableSpec]
  public let bags: [any PooledIdTable]
  public var isTraining = true
  public var outFeatures: Int { tables.reduce(0) { $0 + $1.embeddingDim } }
  /// Whether the tables are row-sharded over several ranks.
  public let isSharded: Bool

  /// With a `communicator` of several ranks the tables are `RowShardedEmbeddingBag`s.
  public init(tables: [IdEmbeddingTableSpec], rng: inout RandomGenerator, communicator: (any Communicator)? = nil) {
    self.tables = tables
    isSharded = (communicator?.worldSize ?? 1) > 1
    bags = tables.map { [isSharded] t in
      let seed = rng.next(), bound = (1 / Float(t.numEmbeddings)).squareRoot()
      let initialize = { (row: Int, out: UnsafeMutableBufferPointer<Float>) in
        var r = RandomGenerator(seed: seed, stream: UInt64(row))
        for j in out.indices { out[j] = (r.uniform() * 2 - 1) * bound }
      }
      if isSharded, let communicator {
        return RowShardedEmbeddingBag(rows: t.numEmbeddings, dim: t.embeddingDim, communicator: communicator, initialize: initialize)
      }
      var values = [Float](repeating: 0, count: t.numEmbeddings * t.embeddingDim)
      values.withUnsafeMutableBufferPointer { w in
        for i in 0..<t.numEmbeddings {
          initialize(i, UnsafeMutableBufferPointer(rebasing: w[i * t.embeddingDim..<(i + 1) * t.embeddingDim]))
        }
      }
      return EmbeddingBag(weight: try! Tensor(shape: [t.numEmbeddings, t.embeddingDim], scalars: values), mode: .sum)  // rows·dim values by construction
    }
  }

  public var children: [(String, any Module)] {
    [("embedding_bags", ModuleList(named: zip(tables, bags).map { ($0.name, $1 as any Module) }))]
  }

  /// Checks that every id of `bags` is a row of `table`; the error names the feature,
  /// the id and the table.
  static func validate(_ bags: IdBags, table: IdEmbeddingTableSpec, feature: String) throws {
    if let bad = bags.ids.first(where: { $0 < 0 || $0 >= table.numEmbeddings }) {
      throw TensorError("id feature \(feature) has id \(bad), outside table \(table.name)'s \(table.numEmbeddings) rows (num_embeddings); the original does not hash ids, so map them into 0..<\(table.numEmbeddings) (e.g. with the table's vocab) or raise num_embeddings")
    }
  }
}

/// The original's `LargeEmbeddings` (`large_embeddings:`): an `EmbeddingBagCollection`
/// under `ebc`, so weights are `embeddings.ebc.embedding_bags.<table>.weight` in the
/// ranker. Forward: for each table t (config order) `pooled_t[k] = Σ_{i ∈ bag k} W_t[i]`,
/// concatenated → [B, Σ dim_t]. Backward produces sparse row gradients, applied during
/// backward by plain SGD (the original's `EmbeddingOptimizerConfig`: "only sgd is
/// supported", FBGEMM's fused exact SGD) with its own learning rate schedule.
/// Under mpirun (`communicator` of N ranks) each table is row-sharded round-robin
/// (`RowShardedEmbeddingBag`): ids go to their owners with all-to-all, pooled rows come
/// back, and row gradients go to the owners, which apply the SGD — so every rank must run
/// forward in step (`participate()` when it has no batch).
public final class LargeIdEmbeddings: Module {
  public let ebc: EmbeddingBagCollection
  public var isTraining = true
  public var outFeatures: Int { ebc.outFeatures }
  let communicator: (any Communicator)?
  public var isSharded: Bool { ebc.isSharded }

  public init(tables: [IdEmbeddingTableSpec], learningRate: LearningRateSchedule, rng: inout RandomGenerator,
              communicator: (any Communicator)? = nil) {
    ebc = EmbeddingBagCollection(tables: tables, rng: &rng, communicator: communicator)
    self.communicator = communicator
    for bag in ebc.bags { bag.fuse(SparseSGD(learningRate: learningRate)) }
  }

  public var children: [(String, any Module)] { [("ebc", ebc)] }

  /// Pooled embeddings of `features` (by table name) for `batchSize` examples. Sharded,
  /// a bad input on any rank stops every rank with that rank's message.
  public func forward(_ features: [String: IdBags], batchSize: Int) throws -> Tensor {
    var inputs: [IdBags] = []
    var failure: String? = nil
    for table in ebc.tables {
      do { inputs.append(try checkedBags(features, table: table, batchSize: batchSize)) } catch {
        failure = "\(error)"
        break
      }
    }
    if isSharded, let communicator {
      do { try communicator.agree(failed: failure) } catch let e as DistributedError { throw TensorError(e.description) }
    }
    if let failure { throw TensorError(failure) }
    let parts = try zip(ebc.bags, inputs).map { try $0.pooled($1) }
    return parts.count == 1 ? parts[0] : try Tensor.concat(parts, axis: -1)
  }

  private func checkedBags(_ features: [String: IdBags], table: IdEmbeddingTableSpec, batchSize: Int) throws -> IdBags {
    guard let bags = features[table.name] else {
      throw TensorError("ranker input: large_embeddings table \(table.name) reads the feature \(table.name), which the batch does not have; map it in seg_dense_schema.renamed_features (meta__* names) or list it in seg_dense_schema.features")
    }
    guard bags.count == batchSize else {
      throw TensorError("ranker input: feature \(table.name) has \(bags.count) bags for \(batchSize) examples")
    }
    try EmbeddingBagCollection.validate(bags, table: table, feature: table.name)
    return bags
  }

  /// Takes part in one forward with no examples (sharded: another rank is looking up).
  public func participate() throws {
    guard isSharded, let communicator else { return }
    do { try communicator.agree(failed: nil) } catch let e as DistributedError { throw TensorError(e.description) }
    for bag in ebc.bags { try (bag as? RowShardedEmbeddingBag)?.participate() }
  }
}

/// The original's `small_embeddings:` (its `SmallEmbedding` module is missing from the
/// released code): table t embeds column `index_t` of the discrete features,
/// `out = concat_t W_t[discrete[:, index_t]]` → [B, Σ dim_t]. The gradient is dense, so
/// the tables train with the rest of the model's optimizer (as the original's config
/// documents). Names: `small_embeddings.embedding_bags.<table>.weight`.
public final class SmallIdEmbeddings: Module {
  public let ebc: EmbeddingBagCollection
  public var isTraining = true
  public var outFeatures: Int { ebc.outFeatures }

  public init(tables: [IdEmbeddingTableSpec], rng: inout RandomGenerator) {
    ebc = EmbeddingBagCollection(tables: tables, rng: &rng)
  }

  public var children: [(String, any Module)] { ebc.children }

  public func forward(discrete: IndexTensor?, batchSize: Int) throws -> Tensor {
    guard let d = discrete else {
      throw TensorError("ranker input: small_embeddings are used but the batch has no discrete features (map renamed_features.discrete)")
    }
    let width = d.shape.count == 2 ? d.shape[1] : 1
    var parts: [Tensor] = []
    for (table, bag) in zip(ebc.tables, ebc.bags) {
      let column = table.discreteIndex ?? 0
      guard column < width else {
        throw TensorError("model.small_embeddings table \(table.name): index \(column) is outside the \(width) discrete features")
      }
      let ids = (0..<batchSize).map { d.values[$0 * width + column] }
      try EmbeddingBagCollection.validate(IdBags(ids: ids, offsets: Array(0..<batchSize)), table: table,
                                          feature: "discrete[:, \(column)]")
      parts.append(try bag.weight.value.gatherRows(IndexTensor(ids)))
    }
    return parts.count == 1 ? parts[0] : try Tensor.concat(parts, axis: -1)
  }
}
