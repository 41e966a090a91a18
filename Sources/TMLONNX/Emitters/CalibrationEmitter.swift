import Recap
import TMLNN

extension ONNXGraphBuilder {
  /// Numeric calibration of one task's probability p [N, 1] with r = `<prefix>.ratio`:
  /// calibrated = p·r / ((1 − p) + p·r).
  public func calibration(_ p: String, _ c: NumericCalibration, prefix: String) -> String {
    let r = initializer("\(prefix).ratio", c.ratio.value)
    let pr = node("Mul", [p, r], named: "\(prefix)/p_times_ratio")
    let q = node("Sub", [scalar("\(prefix)/one", 1), p], named: "\(prefix)/one_minus_p")
    return node("Div", [pr, node("Add", [q, pr], named: "\(prefix)/denominator")], named: "\(prefix)/calibrated")
  }
}
