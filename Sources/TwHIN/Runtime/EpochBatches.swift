import TMLTensor

/// The training batches of a TwHIN run: epoch e visits the edges in the order of a
/// permutation drawn from `RandomGenerator(seed, stream: "ep" + e)`, cut into batches of
/// `batchSize` (the last one of an epoch may be short). Batch k of epoch e is step
/// e·perEpoch + k, so a resumed run — in one process or on any number of ranks — draws
/// the same batches.
///
///     var batches = EpochBatches(edges: train, batchSize: 500, seed: 0)
///     let b = try batches.batch(step: 12, schema: schema)
struct EpochBatches {
  let edges: EdgeList
  let batchSize: Int
  let seed: UInt64
  private var order: [Int] = []
  private var orderEpoch = -1

  init(edges: EdgeList, batchSize: Int, seed: UInt64) {
    self.edges = edges
    self.batchSize = batchSize
    self.seed = seed
  }

  var perEpoch: Int { max(1, (edges.count + batchSize - 1) / batchSize) }

  mutating func batch(step: Int, schema: GraphSchema) throws -> EdgeBatch {
    let epoch = step / perEpoch, k = step % perEpoch
    if epoch != orderEpoch {
      var rng = RandomGenerator(seed: seed, stream: 0x6570_0000 + UInt64(epoch))  // "ep" + epoch
      order = rng.permutation(edges.count)
      orderEpoch = epoch
    }
    let slice = order[(k * batchSize)..<min((k + 1) * batchSize, edges.count)]
    return try EdgeBatch(lhs: slice.map { edges.lhs[$0] }, relations: slice.map { edges.relations[$0] },
                         rhs: slice.map { edges.rhs[$0] }, schema: schema)
  }
}
