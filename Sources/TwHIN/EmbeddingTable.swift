#if canImport(Glibc)
import Glibc
#endif
import TMLNN
import TMLTensor

/// One node table of a TwHIN model: `numEmbeddings` rows of `dim` floats, as the
/// original's torchrec `EmbeddingBagCollection` table (state name `weight`).
///
/// Initialised in one pass with the requested law (a 10M × 200 table is drawn once,
/// in place). Lookups through `lookup(_:)` record a sparse backward: the gradient of
/// the looked-up rows goes to the fused optimizer (`fuse(_:)`, torchrec's optimizer in
/// backward) or, when none is fused, accumulates in `sparseGradient` until
/// `zeroSparseGrad()`. The dense gradient of a table is never built.
///
///     var rng = RandomGenerator(seed: 1)
///     let table = try EmbeddingTable(rows: 424_241, dim: 4, init: .torchrecUniform, rng: &rng)
///     table.fuse(RowWiseAdagrad(learningRate: .constant(0.1)))
///     let e = try table.lookup([3, 17])   // [2, 4]
public final class EmbeddingTable: Module {
  public let weight: Parameter
  public var isTraining = true
  public private(set) var sparseGradient: SparseRowGradient?
  public private(set) var fusedOptimizer: (any SparseRowOptimizer)?
  public var numEmbeddings: Int { weight.shape[0] }
  public var dim: Int { weight.shape[1] }

  /// Rows drawn from `law`. The table is filled in chunks of 2²⁰ values on all cores, chunk
  /// c from `RandomGenerator(seed: s, stream: c)` with s drawn from `rng`, so the values
  /// depend on the seed only, never on the thread count.
  /// An error (never a trap) when rows × dim floats cannot be allocated.
  public init(rows: Int, dim: Int, init law: EmbeddingInit, rng: inout RandomGenerator) throws {
    let w = try Tensor(allocatingShape: [rows, dim])
    let count = rows * dim, chunk = 1 << 20
    let seed = rng.next()
    let base = w.withUnsafeBufferPointer { UnsafeMutablePointer(mutating: $0.baseAddress) }
    if let base { EmbeddingTable.adviseHugePages(base, bytes: count * 4) }
    parallelFor((count + chunk - 1) / chunk, minimumPerThread: 1) { chunks in
      guard let base else { return }
      for c in chunks {
        var r = RandomGenerator(seed: seed, stream: UInt64(c))
        let p = base + c * chunk
        let n = min(chunk, count - c * chunk)
        switch law {
        case .torchrecUniform:
          let b = (1 / Float(max(rows, 1))).squareRoot()
          for i in 0..<n { p[i] = r.uniform(-b, b) }
        case .normal(let s):
          for i in 0..<n { p[i] = s * r.normal() }
        case .uniform(let lo, let hi):
          for i in 0..<n { p[i] = r.uniform(lo, hi) }
        }
      }
    }
    weight = Parameter(w)
  }

  public var parameters: [(String, Parameter)] { [("weight", weight)] }

  /// Asks Linux to back a large table with 2 MB pages (before its first touch): lookups
  /// and row updates hit random rows, and with 4 KB pages nearly every one of them misses
  /// the TLB. A no-op elsewhere, for small tables, or where transparent huge pages are off.
  static func adviseHugePages(_ p: UnsafeMutablePointer<Float>, bytes: Int) {
    #if os(Linux)
    let huge = 2 << 20
    guard bytes >= 4 * huge else { return }
    let start = (Int(bitPattern: p) + huge - 1) & ~(huge - 1)
    let end = (Int(bitPattern: p) + bytes) & ~(huge - 1)
    guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
    _ = madvise(aligned, end - start, 14)  // MADV_HUGEPAGE
    #endif
  }

  /// Applies `optimizer` to the looked-up rows during backward.
  public func fuse(_ optimizer: any SparseRowOptimizer) { fusedOptimizer = optimizer }

  public func zeroSparseGrad() { sparseGradient = nil }

  /// Rows `ids` as [ids.count, dim] (ids may repeat; their gradients add up).
  public func lookup(_ ids: [Int]) throws -> Tensor {
    let out = try weight.value.detached().gatherRows(IndexTensor(ids))
    guard GradMode.isEnabled else { return out }
    return out.attachingSparseBackward(name: "embeddingTable") { [weak self] g in
      guard let self else { return }
      try self.receive(EmbeddingTable.rowGradient(g, ids: ids, dim: self.dim))
    }
  }

  /// The upstream gradient [ids.count, dim] summed per distinct id (ascending).
  static func rowGradient(_ g: Tensor, ids: [Int], dim: Int) -> SparseRowGradient {
    let unique = Array(Set(ids)).sorted()
    var slot = [Int: Int](minimumCapacity: unique.count)
    for (k, r) in unique.enumerated() { slot[r] = k }
    var values = Tensor.zeros([unique.count, dim])
    values.withUnsafeMutableBufferPointer { v in
      g.withUnsafeBufferPointer { gp in
        for (i, id) in ids.enumerated() {
          let d = slot[id]! * dim
          for j in 0..<dim { v[d + j] += gp[i * dim + j] }
        }
      }
    }
    return SparseRowGradient(rows: unique, values: values)
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

extension Parameter {
  /// Runs `body` on the parameter's elements, written in place, then marks the value as
  /// changed (`version`). Outside TMLNN, mutating the observed `Parameter.value` through
  /// `withUnsafeMutableBufferPointer` copies the whole tensor first (its `modify` goes
  /// through a temporary), which for a 10M-row table is gigabytes per step; TwHIN's
  /// kernels write the rows directly instead, as torchrec does. A `Tensor` read from
  /// `value` earlier shares the storage and sees the new rows: take `.scalars` for a snapshot.
  func updateInPlace<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
    let result = try value.withUnsafeBufferPointer { try body(UnsafeMutableBufferPointer(mutating: $0)) }
    let same = value
    value = same  // bumps `version` (no copy: the storage is shared)
    return result
  }
}
