import Foundation
import TMLTensor

/// Bayesian personalised ranking matrix factorisation (Rendle et al. 2009), a baseline of
/// `tml data movielens-eval`: score(u, i) = ⟨p_u, q_i⟩ + b_i, trained by SGD on sampled
/// triples (u, i, j) — i an item u rated in training, j a uniform item u did not — on
///
///     ℓ(u, i, j) = −log σ(x_uij) + λ/2 (‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²),   x_uij = s(u, i) − s(u, j)
///
///     var bpr = BPR(users: 943, items: 1682, dim: 64, seed: 0)
///     bpr.train(task, epochs: 30, learningRate: 0.05, lambda: 0.01)
///     bpr.scores(user: 3)   // every item's score
public struct BPR: Sendable {
  public let users: Int, items: Int, dim: Int
  public var p: [Float], q: [Float], b: [Float]
  var rng: RandomGenerator

  public init(users: Int, items: Int, dim: Int, seed: UInt64 = 0) {
    (self.users, self.items, self.dim) = (users, items, dim)
    rng = RandomGenerator(seed: seed, stream: 7)
    var r = rng
    p = (0..<(users * dim)).map { _ in Float.random(in: -0.1...0.1, using: &r) }
    q = (0..<(items * dim)).map { _ in Float.random(in: -0.1...0.1, using: &r) }
    b = [Float](repeating: 0, count: items)
    rng = r
  }

  public func score(_ u: Int, _ i: Int) -> Float {
    var s = b[i]
    for d in 0..<dim { s += p[u * dim + d] * q[i * dim + d] }
    return s
  }

  public func scores(user u: Int) -> [Float] { (0..<items).map { score(u, $0) } }

  /// ℓ(u, i, j) (see the type's doc).
  public func loss(_ u: Int, _ i: Int, _ j: Int, lambda: Float) -> Float {
    let x = score(u, i) - score(u, j)
    var reg = b[i] * b[i] + b[j] * b[j]
    for d in 0..<dim { reg += p[u * dim + d] * p[u * dim + d] + q[i * dim + d] * q[i * dim + d] + q[j * dim + d] * q[j * dim + d] }
    return softplus(-x) + lambda / 2 * reg
  }

  /// −log σ(x) = log(1 + e^{−x}), stable for large |x|.
  func softplus(_ z: Float) -> Float { z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)) }

  /// ∂ℓ/∂(p_u, q_i, q_j, b_i, b_j) of one triple (i ≠ j).
  public func gradient(_ u: Int, _ i: Int, _ j: Int, lambda: Float) -> (pu: [Float], qi: [Float], qj: [Float], bi: Float, bj: Float) {
    let x = score(u, i) - score(u, j)
    let g = -1 / (1 + exp(x))  // dℓ/dx = −σ(−x)
    var pu = [Float](repeating: 0, count: dim), qi = pu, qj = pu
    for d in 0..<dim {
      let (pd, qid, qjd) = (p[u * dim + d], q[i * dim + d], q[j * dim + d])
      pu[d] = g * (qid - qjd) + lambda * pd
      qi[d] = g * pd + lambda * qid
      qj[d] = -g * pd + lambda * qjd
    }
    return (pu, qi, qj, g + lambda * b[i], -g + lambda * b[j])
  }

  /// SGD over `epochs` × (training pairs) sampled triples.
  public mutating func train(_ task: RecommendationTask, epochs: Int, learningRate lr: Float, lambda: Float) {
    let pairs = task.trainPairs
    guard !pairs.isEmpty, items > 1 else { return }
    for _ in 0..<epochs {
      for _ in 0..<pairs.count {
        let (u, i) = pairs[Int.random(in: 0..<pairs.count, using: &rng)]
        var j = Int.random(in: 0..<items, using: &rng)
        var tries = 0
        while task.trainItems[u].contains(j) && tries < 100 {
          j = Int.random(in: 0..<items, using: &rng)
          tries += 1
        }
        if j == i { continue }
        let g = gradient(u, i, j, lambda: lambda)
        for d in 0..<dim {
          p[u * dim + d] -= lr * g.pu[d]
          q[i * dim + d] -= lr * g.qi[d]
          q[j * dim + d] -= lr * g.qj[d]
        }
        b[i] -= lr * g.bi
        b[j] -= lr * g.bj
      }
    }
  }

  /// Evaluates the trained factors on the task.
  public func evaluate(_ task: RecommendationTask, k: Int = 10) throws -> TopKResult {
    try TopKEvaluation.evaluate(task, k: k) { users, body in
      for (n, u) in users.enumerated() { try scores(user: u).withUnsafeBufferPointer { try body(n, $0) } }
    }
  }
}
