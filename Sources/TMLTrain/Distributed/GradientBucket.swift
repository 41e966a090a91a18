import TMLNN
import TMLTensor

/// Replicated parameters whose gradients are all-reduced together. The plan walks the
/// parameters in reverse order (the order backward finishes them): a parameter of at
/// least `bucketElements` floats forms a bucket `alone` (reduced in place in its own
/// gradient storage), smaller ones are packed into buckets of about that many floats,
/// reduced through a flat buffer (`gather`, all-reduce, `scatter`). Every rank builds the
/// same plan, so the ranks exchange the same buckets in the same order
/// (`DataParallel.sumGradients`, `OverlappedGradientReduction`).
struct GradientBucket {
  var parameters: [Parameter]
  /// Floats of all its parameters.
  var size: Int
  var alone: Bool

  static func plan(_ parameters: [Parameter], bucketElements: Int) -> [GradientBucket] {
    var buckets: [GradientBucket] = [], open = GradientBucket(parameters: [], size: 0, alone: false)
    for p in parameters.reversed() {
      if p.value.count >= bucketElements {
        if !open.parameters.isEmpty { buckets.append(open); open = GradientBucket(parameters: [], size: 0, alone: false) }
        buckets.append(GradientBucket(parameters: [p], size: p.value.count, alone: true))
        continue
      }
      open.parameters.append(p)
      open.size += p.value.count
      if open.size >= bucketElements { buckets.append(open); open = GradientBucket(parameters: [], size: 0, alone: false) }
    }
    if !open.parameters.isEmpty { buckets.append(open) }
    return buckets
  }

  /// Copies the parameters' gradients into `flat` (`size` floats), zeros for a parameter
  /// without one (it takes part so every rank sends the same floats).
  func gather(into flat: UnsafeMutableBufferPointer<Float>) {
    var at = 0
    for p in parameters {
      let n = p.value.count
      let slot = UnsafeMutableBufferPointer(rebasing: flat[at..<at + n])
      if let g = p.grad { g.withUnsafeBufferPointer { _ = slot.initialize(from: $0) } } else { slot.update(repeating: 0) }
      at += n
    }
  }

  /// Sets each parameter's gradient to its part of `flat` (the sum over the ranks); a
  /// parameter without a gradient keeps none, as in one process, where the optimizer skips it.
  func scatter(from flat: UnsafeMutableBufferPointer<Float>) {
    var at = 0
    for p in parameters {
      let n = p.value.count
      defer { at += n }
      guard var g = p.grad else { continue }
      p.zeroGrad()  // the leaf lets go, so the gradient's storage is written in place
      g.withUnsafeMutableBufferPointer { dst in _ = dst.initialize(from: UnsafeMutableBufferPointer(rebasing: flat[at..<at + n])) }
      p.value.setGrad(g)
    }
  }
}
