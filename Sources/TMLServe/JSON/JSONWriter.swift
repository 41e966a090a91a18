/// Builds JSON text: `object { … }`, `array { … }`, `key`, and scalars, with commas
/// placed automatically. Floats are written as their shortest round-trip decimal
/// (`Float.description`), so a client parsing them gets the exact Float back;
/// non-finite numbers, which JSON cannot hold, are written as null.
///
///     var w = JSONWriter()
///     w.object { o in o.key("score"); o.double(1.5) }   // {"score":1.5}
public struct JSONWriter {
  public private(set) var text = ""
  private var needsComma = false

  public init() {}

  private mutating func separate() {
    if needsComma { text += "," }
    needsComma = true
  }

  public mutating func key(_ name: String) {
    separate()
    appendQuoted(name)
    text += ":"
    needsComma = false
  }

  public mutating func object(_ body: (inout JSONWriter) -> Void) {
    separate()
    text += "{"
    needsComma = false
    body(&self)
    text += "}"
    needsComma = true
  }

  public mutating func array(_ body: (inout JSONWriter) -> Void) {
    separate()
    text += "["
    needsComma = false
    body(&self)
    text += "]"
    needsComma = true
  }

  public mutating func string(_ s: String) {
    separate()
    appendQuoted(s)
  }

  public mutating func int(_ v: Int) { separate(); text += String(v) }
  public mutating func int64(_ v: Int64) { separate(); text += String(v) }
  public mutating func bool(_ v: Bool) { separate(); text += v ? "true" : "false" }
  public mutating func null() { separate(); text += "null" }

  public mutating func double(_ v: Double) {
    separate()
    text += v.isFinite ? v.description : "null"
  }

  public mutating func float(_ v: Float) {
    separate()
    text += v.isFinite ? v.description : "null"
  }

  /// Appends already-serialized JSON (one value).
  public mutating func raw(_ json: String) {
    separate()
    text += json
  }

  private mutating func appendQuoted(_ s: String) {
    text += "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      case "\n": text += "\\n"
      case "\r": text += "\\r"
      case "\t": text += "\\t"
      case _ where u.value < 0x20:
        let hex = String(u.value, radix: 16)
        text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: text.unicodeScalars.append(u)
      }
    }
    text += "\""
  }
}
