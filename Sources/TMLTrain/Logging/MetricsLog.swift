import Foundation

/// Appends one JSON object per line to `save_dir/metrics.jsonl`:
/// `{"kind": "train", "step": 100, "time": 1764172800.5, "loss": 0.31, …}`.
/// Lines are flushed as written, so a killed run keeps everything logged before.
public final class MetricsLog {
  public let url: URL
  private let handle: FileHandle

  public init(url: URL) throws {
    self.url = url
    let fm = FileManager.default
    do {
      try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      if !fm.fileExists(atPath: url.path) { fm.createFile(atPath: url.path, contents: nil) }
      handle = try FileHandle(forWritingTo: url)
      try handle.seekToEnd()
    } catch {
      throw TrainError("\(url.path): cannot open the metrics log for appending (\(error.localizedDescription))")
    }
  }

  deinit { try? handle.close() }

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
    handle.write(Data(("{" + fields.joined(separator: ",") + "}\n").utf8))
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
