import TwHIN

/// An approximate `NeighborSearch` with one knob trading speed for recall: HNSW's `ef`
/// (candidate list on layer 0) or the PQ fast scan's `rerank` (rows rescored). Set it before
/// the index is shared between threads.
public protocol TunableNeighborSearch: NeighborSearch, AnyObject {
  var breadth: Int { get set }
  /// "hnsw" or "pq", as replies and logs name the method.
  var method: String { get }
}

extension HNSWIndex: TunableNeighborSearch {
  public var breadth: Int {
    get { ef }
    set { ef = newValue }
  }
  public var method: String { "hnsw" }
}

extension PQFastScanIndex: TunableNeighborSearch {
  public var breadth: Int {
    get { rerank }
    set { rerank = max(1, newValue) }
  }
  public var method: String { "pq" }

  /// Subspaces of 4 coordinates when d allows (d/4 codes of 4 bits: d/8 bytes a row), else 2, else 1.
  public static func defaultSubspaces(dimension d: Int) -> Int { d % 4 == 0 ? d / 4 : (d % 2 == 0 ? d / 2 : d) }
}
