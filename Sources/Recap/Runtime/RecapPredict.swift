import Foundation
import TMLData
import TMLTensor

extension RecapRun {
  /// Writes one line per example of the files matching `inputGlob`: the `meta__*` ids
  /// present, then per task `<task>/logit`, `<task>/probability`, `<task>/calibrated`.
  /// TSV with a header, or JSONL when `output` ends in `.jsonl`. Returns the rows written
  /// and the records skipped for data errors (with `ignore_data_errors`), which have no row.
  @discardableResult
  public func predict(model: MultiTaskRankingModel, inputGlob: String, output: String) throws -> RecapPredictSummary {
    var data = trainData
    data.inputs = inputGlob
    data.datedInputs = nil
    let pipe = try pipeline(data, epochs: 1, shuffle: false)
    let jsonl = output.hasSuffix(".jsonl")
    guard FileManager.default.createFile(atPath: output, contents: nil), let out = FileHandle(forWritingAtPath: output) else {
      throw DataError("\(output): cannot create the predictions file; check the directory exists")
    }
    defer { try? out.close() }
    let task = RecapTrainingTask(model: model)
    let metaNames = data.segDenseSchema.renamedFeatures.keys.filter { $0.hasPrefix("meta__") }.sorted()
    let columns = model.taskNames.flatMap { ["\($0)/logit", "\($0)/probability", "\($0)/calibrated"] }
    if !jsonl { out.write(Data(((metaNames + columns).joined(separator: "\t") + "\n").utf8)) }
    var count = 0
    while let batch = try pipe.next() {
      let o = try noGrad { try task.forward(batch) }
      let (z, p, c) = (o.logits.scalars, o.probabilities.scalars, o.calibratedProbabilities.scalars)
      let t = model.taskNames.count
      var text = ""
      for r in 0..<batch.size {
        var values: [String] = metaNames.map { String(batch.meta[$0]?[r] ?? 0) }
        for k in 0..<t { values += ["\(z[r * t + k])", "\(p[r * t + k])", "\(c[r * t + k])"] }
        if jsonl {
          let keys = metaNames + columns
          text += "{" + zip(keys, values).map { "\"\($0)\":\($1)" }.joined(separator: ",") + "}\n"
        } else {
          text += values.joined(separator: "\t") + "\n"
        }
      }
      out.write(Data(text.utf8))
      count += batch.size
    }
    return RecapPredictSummary(rows: count, skipped: pipe.skipped)
  }
}
