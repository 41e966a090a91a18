import Foundation
import TMLANN
import TwHIN

/// The HNSW index of a relation's rhs table (`TwHINANN`, built by `tml twhin build-ann`)
/// as a `NeighborSource`: the index proposes candidates for the tail query
/// q = adjoint_r(e_u) with search breadth `ef`, and they are rescored exactly, so a
/// neighbour it finds has the exact scan's score. Approximate: with a small `ef` it can
/// miss some of the exact top k. Queries run one at a time (the TwHIN queue).
public struct HNSWNeighborSource: NeighborSource, @unchecked Sendable {
  public let ann: TwHINANN
  public let ef: Int
  public var method: String { "hnsw(ef=\(ef))" }

  public init(ann: TwHINANN, ef: Int) {
    self.ann = ann
    self.ef = ef
  }

  public func neighbors(lhs: Int, relation: Int, k: Int) throws -> [Neighbor] {
    try ann.neighbors(lhs: lhs, relation: relation, k: k, ef: ef)
  }

  /// Loads the saved indexes of `twhin`'s checkpoint (`<step_N>/ann/<table>.hnsw`) and plugs
  /// one source into every relation whose rhs table has an index; returns those relations'
  /// names. A table without a saved index keeps the exact scan; an index built from other
  /// rows than the checkpoint's (stale) is an error naming the rebuild command.
  @discardableResult
  public static func plug(into twhin: LoadedTwHIN, ef: Int) throws -> [String] {
    let schema = twhin.run.schema
    let checkpoint = URL(fileURLWithPath: twhin.checkpoint)
    let tables = Set(schema.rhsTable).filter {
      FileManager.default.fileExists(atPath: ANNIndexFile.paths(checkpoint: checkpoint, table: schema.tables[$0].name).header.path)
    }
    var ann = TwHINANN(model: twhin.model)
    try ann.load(tables: tables.sorted(), checkpoint: checkpoint)
    var plugged: [String] = []
    for (r, relation) in schema.relations.enumerated() where tables.contains(schema.rhsTable[r]) {
      twhin.approximate[r] = HNSWNeighborSource(ann: ann, ef: ef)
      plugged.append(relation.name)
    }
    return plugged
  }
}
