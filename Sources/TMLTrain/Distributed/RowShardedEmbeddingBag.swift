import TMLDistributed
import TMLNN
import TMLTensor

/// A sum-pooled embedding bag whose `rows` × `dim` table is sharded round-robin over the
/// ranks (`RowShard`: global row i on rank i mod N): each rank's `weight` parameter holds
/// only its rows. Forward pools the bags of this rank's examples, fetching the distinct
/// rows they use from their owners (`RowShardExchange.lookup`):
///
///     out[k] = Σ_{i ∈ bag k} W[ids[i]]                               [bags, dim]
///
/// Backward sends each distinct row's gradient, Σ_{bags k using row r} ∂L/∂out[k], to its
/// owner, which sums what every rank sent and applies the fused sparse optimizer once to
/// each row touched — so N ranks update the table exactly as one process holding it all
/// does with the global batch (up to float summation order). Both passes are collective:
/// every rank calls forward (and backward) the same number of times; a rank with no
/// examples left calls `participate()` instead.
///
///     let bag = RowShardedEmbeddingBag(rows: 1_000_000, dim: 16, communicator: comm) { row, out in … }
///     bag.fuse(SparseSGD(learningRate: .constant(0.05)))
///     let pooled = try bag(ids: ids, offsets: offsets)            // [bags, 16]
public final class RowShardedEmbeddingBag: FusedSparseModule {
  public let weight: Parameter
  public let shard: RowShard
  public var isTraining = true
  public private(set) var fusedOptimizer: (any SparseRowOptimizer)?
  /// Row gradients (local rows) accumulated when no optimizer is fused, until `zeroSparseGrad()`.
  public private(set) var sparseGradient: SparseRowGradient?
  let exchange: RowShardExchange
  public var dim: Int { exchange.dim }
  public var numEmbeddings: Int { shard.rows }

  /// `initialize(i, row)` fills global row i; only this rank's rows are made, so the same
  /// function gives the same table whatever the number of ranks.
  public init(rows: Int, dim: Int, communicator: any Communicator, initialize: (Int, UnsafeMutableBufferPointer<Float>) -> Void) {
    let shard = RowShard(rank: communicator.rank, worldSize: communicator.worldSize, rows: rows)
    var values = [Float](repeating: 0, count: shard.localRows * dim)
    values.withUnsafeMutableBufferPointer { buf in
      for l in 0..<shard.localRows {
        initialize(shard.globalRow(l), UnsafeMutableBufferPointer(rebasing: buf[l * dim..<(l + 1) * dim]))
      }
    }
    weight = Parameter(try! Tensor(shape: [shard.localRows, dim], scalars: values))  // localRows·dim values by construction
    weight.rowShard = shard
    self.shard = shard
    exchange = RowShardExchange(rows: rows, dim: dim, communicator: communicator)
  }

  public var parameters: [(String, Parameter)] { [("weight", weight)] }

  /// Applies `optimizer` to this rank's rows during backward.
  public func fuse(_ optimizer: any SparseRowOptimizer) { fusedOptimizer = optimizer }

  public func zeroSparseGrad() { sparseGradient = nil }

  /// Pools bag k = `ids[offsets[k] ..< offsets[k + 1]]` (the last to the end) by sum.
  public func callAsFunction(ids: [Int], offsets: [Int]) throws -> Tensor {
    let dim = self.dim, bags = offsets.count
    if let bad = zip(offsets, offsets.dropFirst() + [ids.count]).first(where: { $0.0 < 0 || $0.0 > $0.1 || $0.1 > ids.count }) {
      throw TensorError("RowShardedEmbeddingBag: offsets must be ascending within 0...\(ids.count); found the bag \(bad.0)..<\(bad.1)")
    }
    // Each distinct id is fetched once; `slotOf[i]` is the slot of ids[i].
    var slot: [Int: Int] = [:], distinct: [Int] = [], slotOf = [Int](repeating: 0, count: ids.count)
    for (i, id) in ids.enumerated() {
      if let s = slot[id] { slotOf[i] = s } else {
        slot[id] = distinct.count
        slotOf[i] = distinct.count
        distinct.append(id)
      }
    }
    let rows: [Float]
    do { rows = try weight.value.withUnsafeBufferPointer { try exchange.lookup(distinct, local: $0) } } catch let e as DistributedError {
      throw TensorError(e.description)
    }
    var pooled = [Float](repeating: 0, count: bags * dim)
    for k in 0..<bags {
      let end = k + 1 < bags ? offsets[k + 1] : ids.count
      for i in offsets[k]..<end {
        let s = slotOf[i] * dim
        for j in 0..<dim { pooled[k * dim + j] += rows[s + j] }
      }
    }
    let out = try Tensor(shape: [bags, dim], scalars: pooled)
    guard GradMode.isEnabled else { return out }
    return out.attachingSparseBackward(name: "rowShardedEmbeddingBag") { [weak self] g in
      guard let self else { return }
      var rowGrad = [Float](repeating: 0, count: distinct.count * dim)
      g.withUnsafeBufferPointer { gp in
        for k in 0..<bags {
          let end = k + 1 < bags ? offsets[k + 1] : ids.count
          for i in offsets[k]..<end {
            let s = slotOf[i] * dim
            for j in 0..<dim { rowGrad[s + j] += gp[k * dim + j] }
          }
        }
      }
      try self.receive(ids: distinct, gradients: rowGrad)
    }
  }

  /// Takes part in one lookup with no ids (a rank without examples while others look up).
  public func participate() throws {
    _ = try noGrad { try self(ids: [], offsets: []) }
  }

  func receive(ids: [Int], gradients: [Float]) throws {
    let (rows, sums): ([Int], [Float])
    do { (rows, sums) = try exchange.reduceToOwners(ids: ids, gradients: gradients) } catch let e as DistributedError {
      throw TensorError(e.description)
    }
    // Ascending rows, as a SparseRowGradient promises.
    let order = rows.indices.sorted { rows[$0] < rows[$1] }
    var values = [Float](repeating: 0, count: sums.count)
    for (k, s) in order.enumerated() { for j in 0..<dim { values[k * dim + j] = sums[s * dim + j] } }
    let g = SparseRowGradient(rows: order.map { rows[$0] }, values: try Tensor(shape: [rows.count, dim], scalars: values))
    if let opt = fusedOptimizer {
      try opt.apply(to: weight, gradient: g)
    } else {
      sparseGradient = sparseGradient.map { $0.merged(with: g) } ?? g
    }
  }
}
