import Foundation
import TMLIO

/// Appends one JSON object per line to `save_dir/metrics.jsonl`:
/// `{"kind": "train", "step": 100, "time": 1764172800.5, "loss": 0.31, …}`.
/// Lines are written through as they come (a killed run keeps everything logged
/// before); a failed write (a full disk) throws `metrics.jsonl: no space left on device`.
public final class MetricsLog {
  public let url: URL
  private let file: FileWriter

  public init(url: URL) throws {
    self.url = url
    do { try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true) } catch {
      throw TrainError("\(url.path): cannot create the metrics log's directory (\(FileError.reason(of: error)))")
    }
    file = try FileWriter(path: url.path, mode: .append)
  }

  /// Closes the log (also done, ignoring errors, when it is released; every line is
  /// already written by then).
  public func close() throws { try file.close() }

  public func append(kind: String, step: Int, _ values: [String: Double]) throws {
    try append(kind: kind, step: step, values, text: [:])
  }

  /// A line with text fields (file names, messages) after the numbers.
  public func append(kind: String, step: Int, _ values: [String: Double], text: [String: String]) throws {
    var fields = ["\"kind\":\(MetricsLog.json(kind))", "\"step\":\(step)", "\"time\":\(Date().timeIntervalSince1970)"]
    for (k, v) in values.sorted(by: { $0.key < $1.key }) {
      fields.append("\(MetricsLog.json(k)):\(v.isFinite ? "\(v)" : "null")")
    }
    for (k, v) in text.sorted(by: { $0.key < $1.key }) { fields.append("\(MetricsLog.json(k)):\(MetricsLog.json(v))") }
    try file.write("{" + fields.joined(separator: ",") + "}\n")
  }

  static func json(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where c.value < 0x20: out += String(format: "\\u%04x", c.value)
      default: out.unicodeScalars.append(c)
      }
    }
    return out + "\""
  }
}

/// A training-loop error with what went wrong and what to do.
public struct TrainError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
