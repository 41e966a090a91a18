import Foundation

/// NDCG@k for gains that may be negative (the For You utility is: negative feedback and
/// reports weigh −74 and −369), normalised between the worst and the best ordering
/// (Gienapp et al., 2020):
///
///     DCG@k(π)  = Σ_{i<k} g_{π(i)} / log2(i + 2)
///     NDCG@k(π) = (DCG@k(π) − DCG@k(worst)) / (DCG@k(best) − DCG@k(worst))
///
/// best sorts the gains descending, worst ascending, so NDCG ∈ [0, 1] whatever the signs:
/// 1 is the ideal order, 0 the worst possible one. Undefined (nil) when every gain is
/// equal — such lists cannot tell orderings apart and are left out of averages.
///
///     NDCG.at(10, gains: [3, 0, -74], order: [0, 1, 2])   // 1.0
public enum NDCG {
  public static func dcg(_ gains: [Double], k: Int) -> Double {
    var s = 0.0
    for (i, g) in gains.prefix(k).enumerated() { s += g / Foundation.log2(Double(i) + 2) }
    return s
  }

  /// NDCG@k of the items taken in `order` (indices into `gains`).
  public static func at(_ k: Int, gains: [Double], order: [Int]) -> Double? {
    let sorted = gains.sorted(by: >)
    let best = dcg(sorted, k: k), worst = dcg(sorted.reversed(), k: k)
    guard best - worst > 1e-12 else { return nil }
    return (dcg(order.map { gains[$0] }, k: k) - worst) / (best - worst)
  }

  /// The indices of `keys` sorted by key descending; ties keep index order.
  public static func order(byDescending keys: [Double]) -> [Int] {
    keys.indices.sorted { (keys[$0], -$0) > (keys[$1], -$1) }
  }
}
