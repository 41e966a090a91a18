import Foundation

/// A seedable, splittable pseudo-random generator: xoshiro256** seeded through
/// SplitMix64 from (seed, stream). Distinct streams of one seed are independent, so
/// each module, the dropout masks, the shuffler and the negative sampler can own one
/// and stay reproducible whatever order they are used in.
///
///     var rng = RandomGenerator(seed: 42, stream: 1)
///     let w = Tensor.uniform([3, 4], low: -0.1, high: 0.1, using: &rng)
public struct RandomGenerator: RandomNumberGenerator, Equatable, Sendable {
  /// The four words of xoshiro256** state (saved in checkpoints to resume exactly).
  public var state: [UInt64]

  public init(seed: UInt64, stream: UInt64 = 0) {
    var x = seed ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03
    var s = [UInt64](repeating: 0, count: 4)
    for i in 0..<4 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      s[i] = z ^ (z >> 31)
    }
    if s.allSatisfy({ $0 == 0 }) { s[0] = 1 }
    state = s
  }

  /// Restores a generator from a saved `state`.
  public init(state: [UInt64]) throws {
    guard state.count == 4, state.contains(where: { $0 != 0 }) else {
      throw TensorError("RandomGenerator(state:): expected 4 words, not all zero; got \(state)")
    }
    self.state = state
  }

  @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  public mutating func next() -> UInt64 {
    let result = RandomGenerator.rotl(state[1] &* 5, 7) &* 9
    let t = state[1] << 17
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = RandomGenerator.rotl(state[3], 45)
    return result
  }

  /// Advances the stream by `count` draws of `next()`, as if they were made and discarded.
  public mutating func skip(_ count: Int) {
    for _ in 0..<max(count, 0) { _ = next() }
  }

  /// Uniform in [0, 1) with 24 random bits.
  public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

  /// Uniform in [low, high).
  public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

  /// Standard normal by Box–Muller.
  public mutating func normal() -> Float {
    let u1 = max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
    let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
  }

  /// True with probability `p`.
  public mutating func bernoulli(_ p: Float) -> Bool { uniform() < p }

  /// Uniform integer in 0..<n (n > 0).
  public mutating func int(below n: Int) -> Int { Int(next(upperBound: UInt64(n))) }

  /// A uniformly random permutation of 0..<n (Fisher–Yates).
  public mutating func permutation(_ n: Int) -> [Int] {
    var p = Array(0..<n)
    if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, int(below: i + 1)) } }
    return p
  }
}

extension Tensor {
  /// Elements drawn uniformly from [low, high).
  public static func uniform(_ shape: [Int], low: Float, high: Float, using rng: inout RandomGenerator) -> Tensor {
    let t = Tensor(uninitializedShape: shape)
    for i in 0..<t.count { t.base[i] = rng.uniform(low, high) }
    return t
  }

  /// Elements drawn from N(mean, std²).
  public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout RandomGenerator) -> Tensor {
    let t = Tensor(uninitializedShape: shape)
    for i in 0..<t.count { t.base[i] = mean + std * rng.normal() }
    return t
  }
}
