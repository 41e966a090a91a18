import TMLTensor

/// An optimizer applied to an embedding table's looked-up rows during backward
/// (torchrec's fused "optimizer in backward"): only the rows in the sparse gradient are
/// read and written. Each `apply` is one step of its schedule.
public protocol SparseRowOptimizer: AnyObject {
  var schedule: LearningRateSchedule { get }
  /// Steps applied so far.
  var iteration: Int { get set }
  func apply(to table: Parameter, gradient: SparseRowGradient) throws
  /// State tensors by state name (e.g. `momentum1` for row-wise Adagrad).
  var state: [String: Tensor] { get set }
}

extension SparseRowOptimizer {
  func checked(_ table: Parameter, _ g: SparseRowGradient) throws -> (rows: Int, dim: Int) {
    let (n, d) = (table.shape[0], table.shape[1])
    guard g.values.shape == [g.rows.count, d] else {
      throw TensorError("sparse optimizer: gradient values \(describe(shape: g.values.shape)) do not match \(g.rows.count) rows of dim \(d)")
    }
    if let bad = g.rows.first(where: { $0 < 0 || $0 >= n }) {
      throw TensorError("sparse optimizer: row \(bad) is outside the table's \(n) rows")
    }
    return (n, d)
  }
}

/// Plain SGD on the touched rows: W[r] ← W[r] − lr·g[r].
public final class SparseSGD: SparseRowOptimizer {
  public let schedule: LearningRateSchedule
  public var iteration = 0
  public var state: [String: Tensor] = [:]
  public init(learningRate: LearningRateSchedule) { schedule = learningRate }

  public func apply(to table: Parameter, gradient g: SparseRowGradient) throws {
    let (_, d) = try checked(table, g)
    let lr = schedule.rate(at: iteration)
    g.values.withUnsafeBufferPointer { v in
      table.value.withUnsafeMutableBufferPointer { w in
        for (k, r) in g.rows.enumerated() { for j in 0..<d { w[r * d + j] -= lr * v[k * d + j] } }
      }
    }
    iteration += 1
  }
}

/// Elementwise Adagrad on the touched rows: G[r] ← G[r] + g[r]²; W[r] ← W[r] − lr·g[r]/(√G[r] + ε).
/// State `sum` is [num_embeddings, dim].
public final class SparseAdagrad: SparseRowOptimizer {
  public let schedule: LearningRateSchedule
  public let eps: Float
  public var iteration = 0
  public var state: [String: Tensor] = [:]
  public init(learningRate: LearningRateSchedule, eps: Float = 1e-10) {
    schedule = learningRate
    self.eps = eps
  }

  public func apply(to table: Parameter, gradient g: SparseRowGradient) throws {
    let (n, d) = try checked(table, g)
    let lr = schedule.rate(at: iteration), eps = self.eps
    var sum = try state.removeValue(forKey: "sum") ?? Tensor.zeros(allocatingShape: [n, d])
    g.values.withUnsafeBufferPointer { v in
      sum.withUnsafeMutableBufferPointer { s in
        table.value.withUnsafeMutableBufferPointer { w in
          for (k, r) in g.rows.enumerated() {
            for j in 0..<d {
              let gi = v[k * d + j], at = r * d + j
              s[at] += gi * gi
              w[at] -= lr * gi / (s[at].squareRoot() + eps)
            }
          }
        }
      }
    }
    state["sum"] = sum
    iteration += 1
  }
}

/// Row-wise Adagrad (fbgemm/torchrec `EXACT_ROWWISE_ADAGRAD`): one accumulator per row,
/// G[r] ← G[r] + mean_j g[r,j]²;  W[r] ← W[r] − lr·g[r]/(√G[r] + ε).
/// State `momentum1` is [num_embeddings] — 1/dim of Adagrad's memory.
public final class RowWiseAdagrad: SparseRowOptimizer {
  public let schedule: LearningRateSchedule
  public let eps: Float
  public var iteration = 0
  public var state: [String: Tensor] = [:]
  public init(learningRate: LearningRateSchedule, eps: Float = 1e-8) {
    schedule = learningRate
    self.eps = eps
  }

  public func apply(to table: Parameter, gradient g: SparseRowGradient) throws {
    let (n, d) = try checked(table, g)
    let lr = schedule.rate(at: iteration), eps = self.eps
    var acc = try state.removeValue(forKey: "momentum1") ?? Tensor.zeros(allocatingShape: [n])
    g.values.withUnsafeBufferPointer { v in
      acc.withUnsafeMutableBufferPointer { a in
        table.value.withUnsafeMutableBufferPointer { w in
          for (k, r) in g.rows.enumerated() {
            var sq: Float = 0
            for j in 0..<d { let x = v[k * d + j]; sq += x * x }
            a[r] += sq / Float(d)
            let scale = lr / (a[r].squareRoot() + eps)
            for j in 0..<d { w[r * d + j] -= scale * v[k * d + j] }
          }
        }
      }
    }
    state["momentum1"] = acc
    iteration += 1
  }
}
