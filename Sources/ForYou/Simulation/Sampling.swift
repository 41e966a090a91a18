import Foundation
import TMLTensor

/// The few distributions the simulator draws from, on top of `RandomGenerator`
/// (xoshiro256**, so a seed always gives the same network).
extension RandomGenerator {
  /// Poisson(λ): Knuth's product of uniforms for λ < 30, a rounded normal
  /// N(λ, λ) above (only ever used for counts of tweets and sessions).
  mutating func poisson(_ lambda: Double) -> Int {
    guard lambda > 0 else { return 0 }
    if lambda >= 30 { return max(0, Int((lambda + lambda.squareRoot() * Double(normal())).rounded())) }
    let limit = Foundation.exp(-lambda)
    var k = 0
    var p = 1.0
    repeat {
      k += 1
      p *= Double(uniform())
    } while p > limit
    return k - 1
  }

  /// exp(N(μ, σ²)).
  mutating func logNormal(mu: Double, sigma: Double) -> Double { Foundation.exp(mu + sigma * Double(normal())) }

  /// Pareto with scale 1 and tail index α: P(X > x) = x^(−α), x ≥ 1.
  mutating func pareto(alpha: Double) -> Double {
    let u = max(Double(uniform()), 1e-9)
    return Foundation.pow(u, -1 / alpha)
  }

  /// Uniform in [0, 1) as a Double.
  mutating func unit() -> Double { Double(uniform()) }
}

/// Draws an index with probability proportional to fixed non-negative weights, by binary
/// search in the cumulative sums (O(log n) per draw).
///
///     var w = WeightedSampler([1, 3]);  w.sample(&rng)   // 1 three times out of four
struct WeightedSampler: Sendable {
  let cumulative: [Double]
  let items: [Int]

  /// `weights[i]` is the weight of `items[i]` (of `i` when `items` is nil).
  init(_ weights: [Double], items: [Int]? = nil) {
    var c: [Double] = []
    c.reserveCapacity(weights.count)
    var s = 0.0
    for w in weights {
      s += max(w, 0)
      c.append(s)
    }
    cumulative = c
    self.items = items ?? Array(weights.indices)
  }

  var isEmpty: Bool { cumulative.last.map { $0 <= 0 } ?? true }

  func sample(_ rng: inout RandomGenerator) -> Int {
    let target = rng.unit() * cumulative[cumulative.count - 1]
    var lo = 0, hi = cumulative.count - 1
    while lo < hi {
      let mid = (lo + hi) / 2
      if cumulative[mid] > target { hi = mid } else { lo = mid + 1 }
    }
    return items[lo]
  }
}

/// The logistic function σ(x) = 1 / (1 + e^(−x)).
@inline(__always) func logistic(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
