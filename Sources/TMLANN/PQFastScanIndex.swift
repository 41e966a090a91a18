import CHNSW
import Foundation
import TMLTensor
import TwHIN

/// Maximum-inner-product search by product quantisation with 4-bit codes and a "fast scan"
/// (Jégou et al., "Product quantization for nearest neighbor search", 2011; André et al.,
/// "Cache locality is not enough", 2015), then an exact rescoring of the best candidates:
///
///     x ≈ (c_1[a_1(x)], …, c_S[a_S(x)])            S subspaces of d/S coordinates, 16 centroids each
///     ⟨q, x⟩ ≈ Σ_s ⟨q_s, c_s[a_s(x)]⟩ = Σ_s L[s][a_s(x)]   (L quantised to uint8, summed in uint16)
///     answer = exact top k of the `exactRerank` best, by an int8 copy of the rows
///              (x ≈ s·x8, s = max|x|/127), of the `rerank` rows with the largest PQ estimates
///
/// Every row costs S/2 bytes in the scan (16 subspaces: 8 bytes instead of 4·d), which is
/// what makes it fast where a graph index is not: on i.i.d. high-dimensional vectors.
/// Centroids: k-means (25 Lloyd iterations) on a sample of ≤ 65,536 rows per subspace.
public final class PQFastScanIndex: NeighborSearch, @unchecked Sendable {
  public let dimension: Int
  public let count: Int
  public let subspaces: Int
  /// How many rows, by estimated score, are rescored exactly.
  public var rerank: Int
  private let vectors: [Float]
  /// S × 16 × (d/S).
  private let centroids: [Float]
  /// ⌈n/32⌉ blocks × S × 16 bytes (see `tml_pq4_scan`).
  private let codes: [UInt8]
  /// The rows as int8 with one scale per row, for the middle stage.
  private let rows8: [Int8]
  private let scales: [Float]
  /// How many rows, by the int8 scores, are rescored exactly at full precision.
  public var exactRerank = 200

  /// The scan kernel this CPU runs ("avx2" or "scalar").
  public static var kernel: String { String(cString: tml_pq4_kernel()) }

  public init(vectors: [Float], dimension: Int, subspaces: Int = 16, rerank: Int = 1000, seed: UInt64 = 1,
              progress: ((Int, Int) -> Void)? = nil) throws {
    guard dimension > 0, vectors.count % dimension == 0, !vectors.isEmpty else {
      throw TwHINError("PQ index: \(vectors.count) values is not a whole, non-zero number of rows of dimension \(dimension)")
    }
    guard subspaces > 0, subspaces <= 256, dimension % subspaces == 0 else {
      throw TwHINError("PQ index: subspaces must divide the dimension \(dimension) and be ≤ 256, got \(subspaces)")
    }
    let n = vectors.count / dimension, w = dimension / subspaces
    self.dimension = dimension
    self.count = n
    self.subspaces = subspaces
    self.rerank = max(1, rerank)
    self.vectors = vectors
    var rng = RandomGenerator(seed: seed, stream: 0x5051)  // "PQ"
    let sample = Array(rng.permutation(n).prefix(65_536))
    var centroids = [Float](repeating: 0, count: subspaces * 16 * w)
    for s in 0..<subspaces {
      let c = Self.kMeans(vectors, dimension: dimension, offset: s * w, width: w, rows: sample, rng: &rng)
      centroids.replaceSubrange((s * 16 * w)..<((s + 1) * 16 * w), with: c)
      progress?(s + 1, subspaces + n)
    }
    self.centroids = centroids
    let blocks = (n + 31) / 32
    var codes = [UInt8](repeating: 0, count: blocks * subspaces * 16)
    for i in 0..<n {
      let b = i / 32, j = i % 32
      for s in 0..<subspaces {
        var best = 0, bestDistance = Float.infinity
        for k in 0..<16 {
          var d: Float = 0
          for t in 0..<w {
            let e = vectors[i * dimension + s * w + t] - centroids[(s * 16 + k) * w + t]
            d += e * e
          }
          if d < bestDistance { (best, bestDistance) = (k, d) }
        }
        let at = (b * subspaces + s) * 16 + (j % 16)
        codes[at] |= j < 16 ? UInt8(best) : UInt8(best) << 4
      }
      if i % 65_536 == 65_535 || i == n - 1 { progress?(subspaces + i + 1, subspaces + n) }
    }
    self.codes = codes
    var rows8 = [Int8](repeating: 0, count: n * dimension), scales = [Float](repeating: 0, count: n)
    for i in 0..<n {
      var m: Float = 0
      for t in 0..<dimension { m = max(m, abs(vectors[i * dimension + t])) }
      let scale = m > 0 ? m / 127 : 1
      scales[i] = scale
      for t in 0..<dimension { rows8[i * dimension + t] = Int8((vectors[i * dimension + t] / scale).rounded()) }
    }
    self.rows8 = rows8
    self.scales = scales
  }

  /// 16 centroids of the `width` coordinates at `offset` of the sampled rows.
  static func kMeans(_ x: [Float], dimension: Int, offset: Int, width w: Int, rows: [Int], rng: inout RandomGenerator) -> [Float] {
    var c = [Float](repeating: 0, count: 16 * w)
    for k in 0..<16 {
      let r = rows[k % rows.count]
      for t in 0..<w { c[k * w + t] = x[r * dimension + offset + t] }
    }
    var assignment = [Int](repeating: 0, count: rows.count)
    for _ in 0..<25 {
      for (i, r) in rows.enumerated() {
        var best = 0, bestDistance = Float.infinity
        for k in 0..<16 {
          var d: Float = 0
          for t in 0..<w { let e = x[r * dimension + offset + t] - c[k * w + t]; d += e * e }
          if d < bestDistance { (best, bestDistance) = (k, d) }
        }
        assignment[i] = best
      }
      var sums = [Float](repeating: 0, count: 16 * w), counts = [Int](repeating: 0, count: 16)
      for (i, r) in rows.enumerated() {
        counts[assignment[i]] += 1
        for t in 0..<w { sums[assignment[i] * w + t] += x[r * dimension + offset + t] }
      }
      for k in 0..<16 {
        if counts[k] == 0 {  // an empty cluster restarts at a random sampled row
          let r = rows[rng.int(below: rows.count)]
          for t in 0..<w { c[k * w + t] = x[r * dimension + offset + t] }
        } else {
          for t in 0..<w { c[k * w + t] = sums[k * w + t] / Float(counts[k]) }
        }
      }
    }
    return c
  }

  public func search(query: [Float], k: Int) throws -> [Neighbor] {
    try checkQuery(query, k: k)
    if k == 0 { return [] }
    let s = subspaces, w = dimension / s
    // L[s][k] = ⟨q_s, c_s[k]⟩, quantised: u = round((L − min_s) / Δ), Δ the widest range / 255.
    var table = [Float](repeating: 0, count: s * 16)
    for i in 0..<s {
      for k in 0..<16 {
        var d: Float = 0
        for t in 0..<w { d += query[i * w + t] * centroids[(i * 16 + k) * w + t] }
        table[i * 16 + k] = d
      }
    }
    var delta: Float = 0
    var low = [Float](repeating: 0, count: s)
    for i in 0..<s {
      let row = table[(i * 16)..<((i + 1) * 16)]
      low[i] = row.min()!
      delta = max(delta, row.max()! - low[i])
    }
    delta = max(delta / 255, .leastNormalMagnitude)
    var lut = [UInt8](repeating: 0, count: s * 16)
    for i in 0..<(s * 16) { lut[i] = UInt8(min(255, max(0, ((table[i] - low[i / 16]) / delta).rounded()))) }
    let blocks = (count + 31) / 32
    // Every entry is written by the scan.
    let sums = [UInt16](unsafeUninitializedCapacity: blocks * 32) { buffer, n in
      tml_pq4_scan(codes, blocks, s, lut, buffer.baseAddress!)
      n = blocks * 32
    }
    let candidates = selectTop(sums, want: max(rerank, k))
    var scores = [Float](repeating: 0, count: candidates.count)
    tml_int8_inner_products_of_rows(rows8, scales, dimension, candidates, candidates.count, query, &scores)
    var middle = TopK(k: max(exactRerank, k))
    for (i, id) in candidates.enumerated() { middle.offer(id: Int(id), score: scores[i]) }
    let finalists = middle.sorted().map { UInt32($0.id) }
    var exact = [Float](repeating: 0, count: finalists.count)
    tml_inner_products_of_rows(vectors, dimension, finalists, finalists.count, query, &exact)
    var top = TopK(k: k)
    for (i, id) in finalists.enumerated() { top.offer(id: Int(id), score: exact[i]) }
    return top.sorted()
  }

  /// The `want` rows with the largest sums (ties at the cut: the lower rows): a threshold from
  /// a histogram of every 16th sum aiming at 2·want rows, the rows at or above it collected by
  /// the SIMD kernel (the threshold lowered until enough are found), then the cut among those
  /// from a histogram of their sums — no comparison sort.
  func selectTop(_ sums: [UInt16], want: Int) -> [UInt32] {
    if want >= count { return (0..<UInt32(count)).map { $0 } }
    let bins = subspaces * 255 + 1
    var histogram = [Int](repeating: 0, count: bins)
    var sampled = 0
    for i in stride(from: 0, to: count, by: 16) { histogram[Int(sums[i])] += 1; sampled += 1 }
    var threshold = bins - 1, above = 0
    let target = max(1, 2 * want * sampled / count)
    while threshold > 0 && above + histogram[threshold] < target { above += histogram[threshold]; threshold -= 1 }
    var ids = [UInt32](repeating: 0, count: 8 * want), values = [UInt16](repeating: 0, count: 8 * want)
    // Between want and 8·want rows at or above the threshold: lower it when too few, raise it
    // when too many (the threshold stays within [low, high], which only narrows).
    var found = 0, low = 0, high = bins - 1
    for _ in 0..<64 {
      found = tml_pq4_collect(sums, count, UInt16(threshold), &ids, &values, ids.count)
      if found < want, threshold > low {
        high = threshold - 1
        threshold = max(low, threshold - max(1, threshold / 16))
      } else if found > ids.count, threshold < high {
        low = threshold + 1
        threshold = min(high, threshold + max(1, (high - threshold + 1) / 2))
      } else {
        break
      }
    }
    if found < want, low > 0 {
      // Raising past a run of equal sums left too few: take the capped set below it.
      found = tml_pq4_collect(sums, count, UInt16(low - 1), &ids, &values, ids.count)
    }
    let kept = min(found, ids.count)
    if kept <= want { return Array(ids.prefix(kept)) }
    // The cut c: the fewest top sums that hold `want` rows; rows above c all, then rows at c.
    for b in 0..<bins { histogram[b] = 0 }
    for i in 0..<kept { histogram[Int(values[i])] += 1 }
    var cut = bins - 1, taken = 0
    while taken + histogram[cut] < want { taken += histogram[cut]; cut -= 1 }
    var atCut = want - taken
    var out: [UInt32] = []
    out.reserveCapacity(want)
    for i in 0..<kept {
      let v = Int(values[i])
      if v > cut { out.append(ids[i]) } else if v == cut, atCut > 0 { out.append(ids[i]); atCut -= 1 }
    }
    return out
  }
}
