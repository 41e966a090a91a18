import Foundation
import TMLData
import TMLIO
import TMLTensor
import TMLTrain

extension RecapRun {
  /// Writes one line per example of the files matching `inputGlob`: the `meta__*` ids
  /// present, then per task `<task>/logit`, `<task>/probability`, `<task>/calibrated`.
  /// TSV with a header, or JSONL when `output` ends in `.jsonl`. Returns the rows written
  /// and the records skipped for data errors (with `ignore_data_errors`), which have no row.
  /// `onProgress` gets the pass's progress (`predict`, in input bytes read); a failed
  /// write throws `<output>: <reason>` (e.g. no space left on device).
  @discardableResult
  public func predict(model: MultiTaskRankingModel, inputGlob: String, output: String,
                      onProgress: (WorkProgress) -> Void = { _ in }) throws -> RecapPredictSummary {
    var data = trainData
    data.inputs = inputGlob
    data.datedInputs = nil
    let pipe = try pipeline(data, epochs: 1, shuffle: false)
    let jsonl = output.hasSuffix(".jsonl")
    let out = try FileWriter(path: output)
    let task = RecapTrainingTask(model: model)
    let metaNames = data.segDenseSchema.renamedFeatures.keys.filter { $0.hasPrefix("meta__") }.sorted()
    let columns = model.taskNames.flatMap { ["\($0)/logit", "\($0)/probability", "\($0)/calibrated"] }
    if !jsonl { try out.write((metaNames + columns).joined(separator: "\t") + "\n") }
    var count = 0, batches = 0
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
      try out.write(text)
      count += batch.size
      batches += 1
      onProgress(RecapRun.progress("predict", of: pipe, cap: nil, batches: batches))
    }
    try out.close()
    onProgress(RecapRun.progress("predict", of: pipe, cap: nil, batches: batches, finished: true))
    return RecapPredictSummary(rows: count, skipped: pipe.skipped)
  }
}
