import Foundation
import TMLTensor

/// A learning rate as a function of the optimizer step (counted from 0), with the
/// original's four schedules:
///
///     constant c                        → c
///     piecewiseConstant(b, v)           → v[bisect_right(b, step)]
///     linearRampToConstant(lr, n)       → min(lr, lr/n · step)
///     linearRampToCosine(lr, f, n, N)   → lr/n · step                      (step < n)
///                                         f + (lr − f)·½(1 + cos(π(step − n)/(N − n)))  (n ≤ step ≤ N)
///                                         f                                 (step > N)
public enum LearningRateSchedule: Equatable, Sendable {
  case constant(Float)
  case piecewiseConstant(boundaries: [Int], values: [Float])
  case linearRampToConstant(learningRate: Float, rampSteps: Int)
  case linearRampToCosine(learningRate: Float, finalLearningRate: Float, rampSteps: Int, finalSteps: Int)

  public func rate(at step: Int) -> Float {
    switch self {
    case .constant(let c):
      return c
    case .piecewiseConstant(let b, let v):
      var lo = 0, hi = b.count  // bisect_right
      while lo < hi { let mid = (lo + hi) / 2; if step < b[mid] { hi = mid } else { lo = mid + 1 } }
      return v[lo]
    case .linearRampToConstant(let lr, let n):
      return n <= 0 ? lr : min(lr, lr / Float(n) * Float(step))
    case .linearRampToCosine(let lr, let f, let n, let total):
      if step < n { return lr / Float(n) * Float(step) }
      if step <= total {
        let phase = Double.pi * Double(step - n) / Double(max(total - n, 1))
        return f + (lr - f) * Float(0.5 * (1 + cos(phase)))
      }
      return f
    }
  }

  /// Checks the schedule is well formed (e.g. one more value than boundaries).
  public func validate(_ where_: String = "learning rate") throws {
    switch self {
    case .piecewiseConstant(let b, let v):
      guard v.count == b.count + 1 else {
        throw TensorError("\(where_): piecewise_constant needs one more learning_rate_values (\(v.count)) than learning_rate_boundaries (\(b.count))")
      }
      guard zip(b, b.dropFirst()).allSatisfy({ $0 <= $1 }) else {
        throw TensorError("\(where_): learning_rate_boundaries must be non-decreasing, got \(b)")
      }
    case .linearRampToCosine(_, _, let n, let total) where total < n:
      throw TensorError("\(where_): linear_ramp_to_cosine final_num_steps (\(total)) must be ≥ num_ramp_steps (\(n))")
    default:
      return
    }
  }
}
