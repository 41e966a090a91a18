/// Builds JSON text: `object { … }`, `array { … }`, `key`, and scalars, with commas
/// placed automatically. Floats are written as their shortest round-trip decimal
/// (`Float.description`), so a client parsing them gets the exact Float back;
/// non-finite numbers, which JSON cannot hold, are written as null.
///
///     var w = JSONWriter()
///     w.object { o in o.key("score"); o.double(1.5) }   // {"score":1.5}
public struct JSONWriter {
  /// The UTF-8 bytes written so far.
  public private(set) var bytes: [UInt8] = []
  private var needsComma = false

  public init() { bytes.reserveCapacity(1024) }

  /// The JSON text written so far.
  public var text: String { String(decoding: bytes, as: UTF8.self) }

  private mutating func separate() {
    if needsComma { bytes.append(UInt8(ascii: ",")) }
    needsComma = true
  }

  private mutating func append(_ s: String) {
    var s = s
    s.withUTF8 { bytes.append(contentsOf: $0) }
  }

  public mutating func key(_ name: String) {
    separate()
    appendQuoted(name)
    bytes.append(UInt8(ascii: ":"))
    needsComma = false
  }

  public mutating func object(_ body: (inout JSONWriter) -> Void) {
    separate()
    bytes.append(UInt8(ascii: "{"))
    needsComma = false
    body(&self)
    bytes.append(UInt8(ascii: "}"))
    needsComma = true
  }

  public mutating func array(_ body: (inout JSONWriter) -> Void) {
    separate()
    bytes.append(UInt8(ascii: "["))
    needsComma = false
    body(&self)
    bytes.append(UInt8(ascii: "]"))
    needsComma = true
  }

  public mutating func string(_ s: String) {
    separate()
    appendQuoted(s)
  }

  public mutating func int(_ v: Int) { separate(); append(String(v)) }
  public mutating func int64(_ v: Int64) { separate(); append(String(v)) }
  public mutating func bool(_ v: Bool) { separate(); append(v ? "true" : "false") }
  public mutating func null() { separate(); append("null") }

  public mutating func double(_ v: Double) {
    separate()
    append(v.isFinite ? v.description : "null")
  }

  public mutating func float(_ v: Float) {
    separate()
    append(v.isFinite ? v.description : "null")
  }

  /// Appends already-serialized JSON (one value).
  public mutating func raw(_ json: String) {
    separate()
    append(json)
  }

  private mutating func appendQuoted(_ s: String) {
    bytes.append(UInt8(ascii: "\""))
    var plain = true
    for b in s.utf8 where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { plain = false; break }
    if plain {
      append(s)
    } else {
      for b in s.utf8 {
        switch b {
        case UInt8(ascii: "\""): append("\\\"")
        case UInt8(ascii: "\\"): append("\\\\")
        case 0x0a: append("\\n")
        case 0x0d: append("\\r")
        case 0x09: append("\\t")
        case 0..<0x20:
          let hex = String(b, radix: 16)
          append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
        default: bytes.append(b)
        }
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }
}
