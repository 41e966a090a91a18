/// The set of true edges (lhs, relation, rhs) used to filter rank metrics and neighbor
/// lists: when ranking a held-out edge (u, r, v) against candidates v', every v' with
/// (u, r, v') ∈ known is removed from the candidates ("filtered" ranking, Bordes et al.
/// 2013), so other true answers do not count as mistakes.
///
///     var known = KnownEdges([train, heldOut])
///     known.contains(lhs: 3, relation: 0, rhs: 12)   // true if (3, 0, 12) is an edge
public struct KnownEdges: Sendable {
  struct Key: Hashable, Sendable { var relation: Int; var lhs: Int }
  private var rhsByKey: [Key: Set<Int>] = [:]
  /// (relation, rhs) → every known lhs: the same edges indexed for head prediction.
  private var lhsByKey: [Key: Set<Int>] = [:]
  /// Number of distinct edges.
  public private(set) var count = 0

  public init() {}

  public init(_ lists: [EdgeList]) {
    for l in lists { insert(l) }
  }

  public mutating func insert(_ edges: EdgeList) {
    for i in 0..<edges.count { insert(lhs: edges.lhs[i], relation: edges.relations[i], rhs: edges.rhs[i]) }
  }

  public mutating func insert(lhs: Int, relation: Int, rhs: Int) {
    if rhsByKey[Key(relation: relation, lhs: lhs), default: []].insert(rhs).inserted {
      count += 1
      lhsByKey[Key(relation: relation, lhs: rhs), default: []].insert(lhs)
    }
  }

  public func contains(lhs: Int, relation: Int, rhs: Int) -> Bool {
    rhsByKey[Key(relation: relation, lhs: lhs)]?.contains(rhs) ?? false
  }

  /// Every known lhs of (relation, rhs) (empty when none): the filter of head prediction.
  public func lhs(relation: Int, rhs: Int) -> Set<Int> {
    lhsByKey[Key(relation: relation, lhs: rhs)] ?? []
  }

  /// Every known rhs of (lhs, relation) (empty when none).
  public func rhs(lhs: Int, relation: Int) -> Set<Int> {
    rhsByKey[Key(relation: relation, lhs: lhs)] ?? []
  }
}
