import Foundation
import Recap
import TMLData
import TMLIO
import TMLTrain

/// Console formatting of training logs, evaluation tables and scores.
enum Report {
  static func trainLine(step: Int, _ v: [String: Double]) -> String {
    let lr = v.filter { $0.key.hasPrefix("learning_rate/") }.map(\.value).max() ?? 0
    return String(format: "step %6d  loss %.5f  %7.0f ex/s  data wait %4.1f%%  lr %.2e",
                  step, v["loss"] ?? .nan, v["examples_per_second"] ?? 0, 100 * (v["data_wait_fraction"] ?? 0), lr)
      + (v[MetricsLog.skippedRecordsKey].flatMap { $0 > 0 ? String(format: "  skipped %.0f", $0) : nil } ?? "")
  }

  static func evalTable(_ name: String, _ r: RecapEvaluator.Result) -> String {
    var tasks: [String: [String: Double]] = [:]
    for (k, v) in r.metrics {
      guard let slash = k.lastIndex(of: "/") else { continue }
      tasks[String(k[..<slash]), default: [:]][String(k[k.index(after: slash)...])] = v
    }
    var lines = [String(format: "eval %@: %d examples, loss %.5f", name, r.examples, r.loss),
                 "  task                                                               AUROC     RCE    NRCE     CTR    pCTR"]
    for (task, m) in tasks.sorted(by: { $0.key < $1.key }) {
      func f(_ k: String, _ fmt: String) -> String { m[k].map { String(format: fmt, $0) } ?? "     —" }
      lines.append("  " + task.padding(toLength: 62, withPad: " ", startingAt: 0) + " " +
                   [f("auroc", "%7.4f"), f("rce", "%7.2f"), f("nrce", "%7.2f"), f("ctr", "%7.4f"), f("pctr", "%7.4f")].joined(separator: " "))
    }
    if let skipped = r.skippedRecords, skipped.total > 0 { lines += skippedRecords(skipped, outcome: "not evaluated") }
    return lines.joined(separator: "\n")
  }

  /// Records skipped under ignore_data_errors: the total, then per file the count and first error.
  static func skippedRecords(_ s: SkippedRecords, outcome: String) -> [String] {
    ["skipped \(s.total) record\(s.total == 1 ? "" : "s") with data errors (ignore_data_errors), \(outcome):"]
      + s.files.map { "  \($0.path): \($0.count) record\($0.count == 1 ? "" : "s"); first error: \($0.firstError)" }
  }

  /// A training-time notice that more records of a file were skipped.
  static func skippedDuringTraining(step: Int, _ f: SkippedRecords.File) -> String {
    "step \(step): \(f.count) record\(f.count == 1 ? "" : "s") of \(f.path) skipped so far (ignore_data_errors); first error: \(f.firstError)"
  }
}

extension PredictionTable {
  /// Scores, writes a TSV when `output` is given, and returns a printable summary.
  func scored(by score: EngagementScore, output: String?, top: Int) throws -> String {
    let rows = try scored(by: score)
    let heads = score.weights.map(\.head).filter { tasks.contains($0) }
    if let output {
      var text = (idColumns + ["score"] + heads.map { "\($0)/contribution" }).joined(separator: "\t") + "\n"
      for r in rows {
        let c = Dictionary(uniqueKeysWithValues: r.contributions.map { ($0.head, $0.value) })
        text += (r.ids + [String(r.score)] + heads.map { String(c[$0] ?? 0) }).joined(separator: "\t") + "\n"
      }
      try FileWriter.write(text, toFile: output)
    }
    var lines = ["\(rows.count) candidates scored by Σ weight·p over \(heads.count) heads" + (output.map { " → \($0)" } ?? "")]
    for (rank, r) in rows.prefix(top).enumerated() {
      let parts = r.contributions.sorted { abs($0.value) > abs($1.value) }.prefix(3)
        .map { String(format: "%@ %+.3f", $0.head.replacingOccurrences(of: "recap.engagement.", with: ""), $0.value) }
      lines.append(String(format: "%3d. %@  score %8.4f   (%@)", rank + 1, r.ids.joined(separator: " "), r.score, parts.joined(separator: ", ")))
    }
    return lines.joined(separator: "\n")
  }
}
