import TMLTensor

/// A table of `numEmbeddings` rows of `dim` floats, pooled per bag by sum or mean
/// (PyTorch `nn.EmbeddingBag(mode=..., sparse=True)`). The weight is initialised from
/// N(0, 1) like PyTorch.
///
/// Gradients are sparse: `backward()` produces a `SparseRowGradient` of only the rows
/// looked up. With a fused optimizer (`fuse(_:)`, torchrec's "optimizer in backward")
/// the update is applied right there and no gradient is kept; otherwise the row
/// gradients accumulate in `sparseGradient` until `zeroGrad()`.
///
///     let table = EmbeddingBag(424_241, 4, mode: .sum, rng: &rng)
///     table.fuse(RowWiseAdagrad(learningRate: .constant(0.1)))
///     let pooled = try table(indices: ids, offsets: offsets)   // [bags, 4]
public final class EmbeddingBag: FusedSparseModule {
  public let weight: Parameter
  public let mode: BagMode
  public var isTraining = true
  public private(set) var sparseGradient: SparseRowGradient?
  public private(set) var fusedOptimizer: (any SparseRowOptimizer)?
  public var numEmbeddings: Int { weight.shape[0] }
  public var dim: Int { weight.shape[1] }

  public init(_ numEmbeddings: Int, _ dim: Int, mode: BagMode = .sum, rng: inout RandomGenerator) {
    weight = Parameter(Tensor.normal([numEmbeddings, dim], using: &rng))
    self.mode = mode
  }

  /// A table with the given initial rows (`weight` is [numEmbeddings, dim]).
  public init(weight: Tensor, mode: BagMode = .sum) {
    self.weight = Parameter(weight)
    self.mode = mode
  }

  public var parameters: [(String, Parameter)] { [("weight", weight)] }

  /// Applies `optimizer` to the looked-up rows during backward.
  public func fuse(_ optimizer: any SparseRowOptimizer) { fusedOptimizer = optimizer }

  public func zeroSparseGrad() { sparseGradient = nil }

  /// Pools `indices` into one row per bag; bag k starts at `offsets[k]`.
  public func callAsFunction(indices: IndexTensor, offsets: IndexTensor) throws -> Tensor {
    let table = weight.value.detached()
    var (out, ranges) = try table.embeddingBag(indices: indices, offsets: offsets, mode: mode)
    guard GradMode.isEnabled else { return out }
    let mode = self.mode
    out = out.attachingSparseBackward(name: "embeddingBag") { [weak self] g in
      guard let self else { return }
      let rowGrad = Tensor.embeddingBagBackward(g, indices: indices, ranges: ranges, mode: mode)
      try self.receive(rowGrad)
    }
    return out
  }

  func receive(_ g: SparseRowGradient) throws {
    if let opt = fusedOptimizer {
      try opt.apply(to: weight, gradient: g)
    } else if let existing = sparseGradient {
      sparseGradient = existing.merged(with: g)
    } else {
      sparseGradient = g
    }
  }
}

extension SparseRowGradient {
  /// Sum of two sparse gradients of the same table.
  public func merged(with other: SparseRowGradient) -> SparseRowGradient {
    let dim = values.shape.last ?? 0
    let rowsAll = Array(Set(rows).union(other.rows)).sorted()
    var slot = [Int: Int]()
    for (k, r) in rowsAll.enumerated() { slot[r] = k }
    var acc = [Float](repeating: 0, count: rowsAll.count * dim)
    for g in [self, other] {
      let v = g.values.scalars
      for (k, r) in g.rows.enumerated() {
        let s = slot[r]! * dim
        for j in 0..<dim { acc[s + j] += v[k * dim + j] }
      }
    }
    return SparseRowGradient(rows: rowsAll, values: try! Tensor(shape: [rowsAll.count, dim], scalars: acc))  // acc has rowsAll.count·dim scalars by construction
  }
}
