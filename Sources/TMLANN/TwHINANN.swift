import Foundation
import TwHIN

/// Approximate TwHIN neighbours: an inner-product HNSW index over a relation's rhs table,
/// queried with the tail query of (u, r) (`TwHINModel.tailQuery`):
///
///     s(u, r, v) = ⟨q, e_v⟩ + bias,   q = adjoint_r(e_u)
///
/// The index returns candidate ids; their scores are then computed exactly (k dot products),
/// so an id found by both paths has the score of `TwHINModel.neighbors` up to float
/// rounding (a dot product summed in another order).
public struct TwHINANN {
  public let model: TwHINModel
  /// Indexes by table index, for the tables that have one.
  public private(set) var indexes: [Int: any TunableNeighborSearch] = [:]

  public init(model: TwHINModel) { self.model = model }

  /// Builds an index over table `table` (all of its rows).
  public static func build(model: TwHINModel, table: Int, parameters: HNSWParameters, threads: Int,
                           progress: ((Int, Int) -> Void)? = nil) throws -> (index: HNSWIndex, tableCRC32C: UInt32) {
    let w = model.tables[table].weight.value
    let vectors = w.scalars
    let crc = vectors.withUnsafeBufferPointer { ANNIndexFile.checksum(of: $0) }
    let index = try HNSWIndex(vectors: vectors, dimension: model.dim, metric: .innerProduct, parameters: parameters,
                              threads: threads, progress: progress)
    return (index, crc)
  }

  /// A PQ fast-scan index over table `table` (built in seconds, so built in memory when a
  /// model loads rather than saved; see docs/ann.md).
  public static func buildPQ(model: TwHINModel, table: Int, seed: UInt64 = 1) throws -> PQFastScanIndex {
    try PQFastScanIndex(vectors: model.tables[table].weight.value.scalars, dimension: model.dim,
                        subspaces: PQFastScanIndex.defaultSubspaces(dimension: model.dim), seed: seed)
  }

  /// CRC-32C of table `table`'s rows (what a saved index records it was built from).
  public static func tableChecksum(model: TwHINModel, table: Int) -> UInt32 {
    model.tables[table].weight.value.withUnsafeBufferPointer { ANNIndexFile.checksum(of: $0) }
  }

  /// Loads the saved index of every table named in `tables` from `checkpoint` (checked
  /// against the model's current rows).
  public mutating func load(tables: [Int], checkpoint: URL) throws {
    for t in tables {
      let name = model.schema.tables[t].name
      let (index, _) = try ANNIndexFile.read(table: name, rows: model.schema.tables[t].numEmbeddings, dimension: model.dim,
                                             tableCRC32C: Self.tableChecksum(model: model, table: t), checkpoint: checkpoint)
      indexes[t] = index
    }
  }

  /// Uses `index` for table `table`.
  public mutating func use(_ index: any TunableNeighborSearch, table: Int) { indexes[table] = index }

  /// The k best rhs of (lhs, relation) found by the index of the rhs table with search
  /// breadth `ef` (HNSW: ef; PQ: rows rescored), rescored exactly, best first; rhs in `excluding` are skipped (the index is
  /// asked for k + |known| candidates).
  public func neighbors(lhs: Int, relation: Int, k: Int, ef: Int, excluding known: KnownEdges? = nil) throws -> [Neighbor] {
    guard k >= 0 else { throw TwHINError("neighbors: k must be ≥ 0, got \(k)") }
    let rhsTable = model.schema.rhsTable[relation]
    guard let index = indexes[rhsTable] else {
      throw TwHINError("no ANN index for table \"\(model.schema.tables[rhsTable].name)\" (the rhs of \"\(model.schema.relations[relation].name)\"); build one with `tml twhin build-ann`")
    }
    let (q, bias) = try model.tailQuery(lhs: lhs, relation: relation)
    let skip = known?.rhs(lhs: lhs, relation: relation) ?? []
    if index.breadth != ef { index.breadth = ef }
    let found = try index.search(query: q, k: min(index.count, k + skip.count))
    let d = model.dim
    return model.tables[rhsTable].weight.value.withUnsafeBufferPointer { e in
      var out: [Neighbor] = []
      for n in found where !skip.contains(n.id) {
        var s: Float = 0
        let row = e.baseAddress! + n.id * d
        for j in 0..<d { s += q[j] * row[j] }
        out.append(Neighbor(id: n.id, score: s + bias))
      }
      out.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
      return Array(out.prefix(k))
    }
  }
}
