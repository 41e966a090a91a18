/// The k highest-scoring items of a stream, kept in a binary min-heap of size k
/// (O(n log k) for n items). Order: score descending, then id ascending, so results are
/// deterministic under ties. NaN scores are never kept.
///
///     var top = TopK(k: 2)
///     for (id, s) in [(0, 0.1), (1, 0.9), (2, 0.5)] { top.offer(id: id, score: s) }
///     top.sorted()   // [(1, 0.9), (2, 0.5)]
public struct TopK: Sendable {
  public let k: Int
  private var heap: [Neighbor] = []

  public init(k: Int) {
    self.k = max(k, 0)
    heap.reserveCapacity(self.k)
  }

  /// True when `a` ranks below `b` (the heap's root is the lowest-ranked item kept).
  @inline(__always) static func below(_ a: Neighbor, _ b: Neighbor) -> Bool {
    a.score < b.score || (a.score == b.score && a.id > b.id)
  }

  public mutating func offer(id: Int, score: Float) {
    guard k > 0, !score.isNaN else { return }
    let item = Neighbor(id: id, score: score)
    if heap.count < k {
      heap.append(item)
      var i = heap.count - 1
      while i > 0 {
        let p = (i - 1) / 2
        guard TopK.below(heap[i], heap[p]) else { break }
        heap.swapAt(i, p)
        i = p
      }
    } else if TopK.below(heap[0], item) {
      heap[0] = item
      var i = 0
      while true {
        let l = 2 * i + 1, r = l + 1
        var m = i
        if l < heap.count && TopK.below(heap[l], heap[m]) { m = l }
        if r < heap.count && TopK.below(heap[r], heap[m]) { m = r }
        if m == i { break }
        heap.swapAt(i, m)
        i = m
      }
    }
  }

  /// The kept items, best first.
  public func sorted() -> [Neighbor] { heap.sorted { TopK.below($1, $0) } }
}

/// A candidate and its score s(u, r, v).
public struct Neighbor: Equatable, Sendable {
  public var id: Int
  public var score: Float
  public init(id: Int, score: Float) {
    self.id = id
    self.score = score
  }
}
