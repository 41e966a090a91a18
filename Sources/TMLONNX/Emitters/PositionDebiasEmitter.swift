import Recap
import TMLNN

extension ONNXGraphBuilder {
  /// Eval-mode position debiasing (`<prefix>._embedding.weight` = E [max_position + 2, dims]):
  ///
  ///     with discrete [N, K]:  out = Gather(E, Clip(discrete[:, feature_index], 0, max_position))
  ///     without:              out = Gather(E, Expand(max_position + 1, [N]))   (the "unknown" row)
  ///
  /// `batchOf` is a graph value whose first dimension is N (the continuous input).
  public func positionDebias(discrete: String?, batchOf: String, _ pd: PositionDebias, prefix: String) -> String {
    let table = initializer("\(prefix)._embedding.weight", pd.embedding.value)
    let rows: String
    if let discrete {
      let column = node("Gather", [discrete, initializer("\(prefix)/feature_index", int64s: [Int64(pd.featureIndex)], shape: [])],
                        named: "\(prefix)/position", attributes: [.int("axis", 1)])
      rows = node("Clip", [column, initializer("\(prefix)/first_position", int64s: [0], shape: []),
                           initializer("\(prefix)/max_position", int64s: [Int64(pd.maxPosition)], shape: [])],
                  named: "\(prefix)/clipped_position")
    } else {
      let n = node("Shape", [batchOf], named: "\(prefix)/batch_size", attributes: [.int("start", 0), .int("end", 1)])
      let unknown = initializer("\(prefix)/unknown_position", int64s: [Int64(pd.maxPosition + 1)], shape: [])
      rows = node("Expand", [unknown, n], named: "\(prefix)/unknown_positions")
    }
    return node("Gather", [table, rows], named: prefix, attributes: [.int("axis", 0)])
  }
}
