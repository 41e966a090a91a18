import Foundation

/// `${VAR}` / `$VAR` substitution in config text, as the original does before parsing
/// (Python's `string.Template(text).safe_substitute(os.environ, USER=getpass.getuser())`):
///
/// - `$name` and `${name}` (name = `[A-Za-z_][A-Za-z0-9_]*`) become the variable's value;
/// - a variable that is not set is left as written (`${NOPE}` stays `${NOPE}`) and listed
///   in `expand`'s `unset` (the loaders make that an error unless asked to allow it);
///   references on whole-line comments (`# …`) are not listed;
/// - `$$` becomes `$`; any other `$` is kept.
/// - `USER` is the login name (`LOGNAME`, `USER`, `LNAME`, `USERNAME`, then the
///   password database), whatever the environment's `USER` says.
///
///     EnvironmentTemplate.substitute("${HOME}/runs $$5", ["HOME": "/home/a"])  // "/home/a/runs $5"
public enum EnvironmentTemplate {
  /// A `$name` / `${name}` reference to a variable that is not set.
  public struct UnsetVariable: Equatable, Sendable {
    public var name: String
    /// The reference as written (`${NOPE}` or `$NOPE`).
    public var written: String
    /// 1-based line of the text.
    public var line: Int
  }

  /// The text with every set variable substituted; unset ones stay as written.
  public static func substitute(_ text: String, _ variables: [String: String]) -> String {
    expand(text, variables).text
  }

  /// The substituted text and the references to unset variables outside whole-line comments.
  public static func expand(_ text: String, _ variables: [String: String]) -> (text: String, unset: [UnsetVariable]) {
    let bytes = Array(text.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var unset: [UnsetVariable] = []
    let dollar = UInt8(ascii: "$"), open = UInt8(ascii: "{"), close = UInt8(ascii: "}")

    func isStart(_ b: UInt8) -> Bool { b == UInt8(ascii: "_") || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) }
    func isBody(_ b: UInt8) -> Bool { isStart(b) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) }
    func identifierEnd(_ from: Int) -> Int {
      var j = from
      guard j < bytes.count, isStart(bytes[j]) else { return from }
      while j < bytes.count, isBody(bytes[j]) { j += 1 }
      return j
    }

    var line = 1, atLineStart = true, commentLine = false
    func reference(_ name: String, written: ArraySlice<UInt8>) {
      if let value = variables[name] {
        out += Array(value.utf8)
      } else {
        out += written
        if !commentLine { unset.append(UnsetVariable(name: name, written: String(decoding: written, as: UTF8.self), line: line)) }
      }
    }

    var i = 0
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\n") {
        line += 1
        atLineStart = true
        commentLine = false
      } else if atLineStart && b != UInt8(ascii: " ") && b != UInt8(ascii: "\t") {
        atLineStart = false
        commentLine = b == UInt8(ascii: "#")
      }
      guard b == dollar, i + 1 < bytes.count else {
        out.append(b)
        i += 1
        continue
      }
      let next = bytes[i + 1]
      if next == dollar {  // $$ → $
        out.append(dollar)
        i += 2
      } else if next == open, case let end = identifierEnd(i + 2), end > i + 2, end < bytes.count, bytes[end] == close {
        reference(String(decoding: bytes[(i + 2)..<end], as: UTF8.self), written: bytes[i...end])
        i = end + 1
      } else if case let end = identifierEnd(i + 1), end > i + 1 {
        reference(String(decoding: bytes[(i + 1)..<end], as: UTF8.self), written: bytes[i..<end])
        i = end
      } else {  // a lone $ stays
        out.append(b)
        i += 1
      }
    }
    return (String(decoding: out, as: UTF8.self), unset)
  }

  /// The process environment with `USER` set to the login name (as `getpass.getuser()`).
  public static func processVariables() -> [String: String] {
    var variables = ProcessInfo.processInfo.environment
    if let user = loginName(variables) { variables["USER"] = user }
    return variables
  }

  static func loginName(_ environment: [String: String]) -> String? {
    for key in ["LOGNAME", "USER", "LNAME", "USERNAME"] {
      if let v = environment[key], !v.isEmpty { return v }
    }
    #if os(Linux) || os(macOS)
      if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
    #endif
    return nil
  }
}
