import Foundation
import TMLTensor

/// A `Linear` followed by an eval-mode `BatchNorm1d`, folded into one `Linear` for inference:
///
///     BN(x·Wᵀ + b) = (x·Wᵀ + b − μ)·s + β,   s = γ / √(σ² + ε)   (μ, σ²: running statistics)
///                  = x·(diag(s)·W)ᵀ + (s ⊙ (b − μ) + β)
///
/// so W' = diag(s)·W and b' = s ⊙ (b − μ) + β (γ = 1, β = 0 without affine), computed in
/// Double and rounded once. The result equals Linear → BatchNorm1d up to float rounding
/// (one fewer rounding per element). `folded` is one stable `Linear` (eval mode) whose
/// values are rewritten whenever a source parameter or running statistic changes
/// (`version`s), so its own packed-weight caches follow. Inference only: training keeps
/// the two layers, whose batch statistics differ from the running ones.
public final class LinearBatchNormFold {
  public let linear: Linear
  public let batchNorm: BatchNorm1d
  private let folded: Linear
  private var sourceVersions: [Int] = []
  private let lock = NSLock()

  public init(_ linear: Linear, _ batchNorm: BatchNorm1d) {
    self.linear = linear
    self.batchNorm = batchNorm
    folded = Linear(linear.inFeatures, linear.outFeatures, bias: true)
    folded.isTraining = false
  }

  private var versions: [Int] {
    [linear.weight.version, linear.bias?.version ?? -1, batchNorm.weight?.version ?? -1, batchNorm.bias?.version ?? -1,
     batchNorm.runningMean.version, batchNorm.runningVar.version]
  }

  /// The folded layer, refreshed from the sources if they changed since the last call.
  public func layer() throws -> Linear {
    lock.lock()
    defer { lock.unlock() }
    let v = versions
    if v != sourceVersions { try refold(); sourceVersions = v }
    return folded
  }

  /// `epilogue(BN(linear(x)))` with the folded layer.
  public func callAsFunction(_ x: Tensor, epilogue: LinearEpilogue = .none) throws -> Tensor {
    try layer().inference(x, epilogue: epilogue)
  }

  private func refold() throws {
    let (outF, inF) = (linear.outFeatures, linear.inFeatures)
    guard batchNorm.runningMean.value.count == outF else {
      throw TensorError("LinearBatchNormFold: BatchNorm1d has \(batchNorm.runningMean.value.count) features, the Linear before it \(outF) outputs")
    }
    let w = linear.weight.value.scalars, b = linear.bias?.value.scalars
    let mean = batchNorm.runningMean.value.scalars, variance = batchNorm.runningVar.value.scalars
    let gamma = batchNorm.weight?.value.scalars, beta = batchNorm.bias?.value.scalars
    var fw = [Float](repeating: 0, count: outF * inF), fb = [Float](repeating: 0, count: outF)
    for o in 0..<outF {
      let s = Double(gamma?[o] ?? 1) / (Double(variance[o]) + Double(batchNorm.eps)).squareRoot()
      for i in 0..<inF { fw[o * inF + i] = Float(s * Double(w[o * inF + i])) }
      fb[o] = Float(s * (Double(b?[o] ?? 0) - Double(mean[o])) + Double(beta?[o] ?? 0))
    }
    try folded.weight.assign(Tensor(shape: [outF, inF], scalars: fw))
    try folded.bias?.assign(Tensor(fb))
  }
}
