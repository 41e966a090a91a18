import Foundation
import TMLANN
import TwHIN

/// The approximate index of a relation's rhs table as a `NeighborSource`: the HNSW index
/// (`tml twhin build-ann`, loaded from the checkpoint's ann/ folder) or a PQ fast scan built
/// at load (`--ann-index pq`); the tail query adjoint_r(e_u) searched with breadth `ef`, the
/// found rows rescored exactly (`TwHINANN`). Used for `"exact": false` requests.
public struct HNSWNeighborSource: NeighborSource, @unchecked Sendable {
  public let ann: TwHINANN
  public let ef: Int
  public let method: String

  public init(ann: TwHINANN, ef: Int, method: String = "hnsw") {
    self.ann = ann
    self.ef = ef
    self.method = method
  }

  public func neighbors(lhs: Int, relation: Int, k: Int) throws -> [Neighbor] {
    try ann.neighbors(lhs: lhs, relation: relation, k: k, ef: ef)
  }
}

extension LoadedTwHIN {
  /// Plugs in the saved index of every relation's rhs table found in the checkpoint's ann/
  /// folder (a table without one keeps the exact scan; a damaged or stale one is an error
  /// naming the file), each searched with breadth `ef` (set once, before requests run).
  public func loadIndexes(checkpointDirectory: URL, ef: Int) throws {
    var ann = TwHINANN(model: model)
    let tables = Set(run.schema.rhsTable).filter {
      FileManager.default.fileExists(atPath: ANNIndexFile.paths(checkpoint: checkpointDirectory, table: run.schema.tables[$0].name).header.path)
    }
    try ann.load(tables: tables.sorted(), checkpoint: checkpointDirectory)
    for index in ann.indexes.values { index.breadth = ef }
    for r in run.schema.relations.indices where tables.contains(run.schema.rhsTable[r]) {
      approximate[r] = HNSWNeighborSource(ann: ann, ef: ef)
    }
  }

  /// Builds a PQ fast-scan index over every relation's rhs table in memory (seconds for a
  /// million rows) and plugs it in with breadth `rerank` (rows rescored).
  public func buildPQIndexes(rerank: Int) throws {
    var ann = TwHINANN(model: model)
    for t in Set(run.schema.rhsTable) {
      let index = try TwHINANN.buildPQ(model: model, table: t)
      index.breadth = rerank
      ann.use(index, table: t)
    }
    for r in run.schema.relations.indices { approximate[r] = HNSWNeighborSource(ann: ann, ef: rerank, method: "pq") }
  }
}
