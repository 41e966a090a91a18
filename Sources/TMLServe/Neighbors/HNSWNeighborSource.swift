import Foundation
import TMLANN
import TwHIN

/// The HNSW index of a relation's rhs table (`tml twhin build-ann`, loaded from the
/// checkpoint's ann/ folder) as a `NeighborSource`: the tail query adjoint_r(e_u) searched
/// with breadth `ef`, the found rows rescored exactly (`TwHINANN`). Used for
/// `"exact": false` requests.
public struct HNSWNeighborSource: NeighborSource, @unchecked Sendable {
  public let ann: TwHINANN
  public let ef: Int
  public var method: String { "hnsw" }

  public init(ann: TwHINANN, ef: Int) {
    self.ann = ann
    self.ef = ef
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
    for index in ann.indexes.values { index.ef = ef }
    for r in run.schema.relations.indices where tables.contains(run.schema.rhsTable[r]) {
      approximate[r] = HNSWNeighborSource(ann: ann, ef: ef)
    }
  }
}
