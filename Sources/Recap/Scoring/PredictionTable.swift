import Foundation
import TMLIO

/// The output of `tml recap predict` read back: per example the id columns and, per task,
/// logit / probability / calibrated probability. A file without `<head>/calibrated`
/// columns, or a row without a value for one, is an error naming the file and line.
public struct PredictionTable {
  public var path: String
  public var idColumns: [String]
  public var tasks: [String]
  public var rows: [(ids: [String], calibrated: [String: Double])]

  public init(path: String) throws {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
      throw ScoreError("\(path): cannot read predictions (\(FileError.reason(of: error)))")
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    self.path = path
    idColumns = []
    tasks = []
    rows = []
    guard !lines.isEmpty else { throw ScoreError("\(path): empty predictions file; score the output of tml recap predict") }
    func noHeads(_ columns: [String]) -> ScoreError {
      ScoreError("\(path): no head columns (<head>/calibrated) among \(columns.joined(separator: ", ")); score the output of tml recap predict")
    }
    if path.hasSuffix(".jsonl") {
      for (n, line) in lines.enumerated() {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
          throw ScoreError("\(path):\(n + 1): not a JSON object")
        }
        if n == 0 {
          idColumns = obj.keys.filter { !$0.contains("/") }.sorted()
          tasks = obj.keys.filter { $0.hasSuffix("/calibrated") }.map { String($0.dropLast("/calibrated".count)) }.sorted()
          guard !tasks.isEmpty else { throw noHeads(obj.keys.sorted()) }
        }
        var c: [String: Double] = [:]
        for t in tasks {
          guard let v = (obj["\(t)/calibrated"] as? NSNumber)?.doubleValue else {
            throw ScoreError("\(path):\(n + 1): no number for \(t)/calibrated (the first line has it)")
          }
          c[t] = v
        }
        rows.append((idColumns.map { "\(obj[$0] ?? "")" }, c))
      }
      return
    }
    let header = lines.removeFirst().split(separator: "\t").map(String.init)
    idColumns = header.filter { !$0.contains("/") }
    let calibratedColumns = header.enumerated().filter { $0.element.hasSuffix("/calibrated") }
    tasks = calibratedColumns.map { String($0.element.dropLast("/calibrated".count)) }
    guard !tasks.isEmpty else { throw noHeads(header) }
    let idIndex = header.enumerated().filter { !$0.element.contains("/") }.map(\.offset)
    for (n, line) in lines.enumerated() {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      guard f.count == header.count else {
        throw ScoreError("\(path):\(n + 2): \(f.count) columns, the header has \(header.count)")
      }
      var c: [String: Double] = [:]
      for (i, name) in calibratedColumns {
        guard let v = Double(f[i]) else { throw ScoreError("\(path):\(n + 2): \(name) is not a number: \(f[i])") }
        c[String(name.dropLast("/calibrated".count))] = v
      }
      rows.append((idIndex.map { f[$0] }, c))
    }
  }

  /// Scores every row; returns rows sorted by descending score with contributions.
  /// Weights naming heads that are not columns are an error (`EngagementScore.check`).
  public func scored(by score: EngagementScore) throws -> [(ids: [String], score: Double, contributions: [(head: String, value: Double)])] {
    try score.check(heads: tasks, in: path)
    return rows.map { r in
      let s = score.score(r.calibrated)
      return (r.ids, s.score, s.contributions)
    }.sorted { $0.score > $1.score }
  }
}
