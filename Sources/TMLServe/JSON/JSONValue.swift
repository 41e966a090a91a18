/// A parsed JSON value (RFC 8259), as `JSONReader` produces it.
///
/// Numbers keep their exact integer value when the token is an integer that fits in
/// Int64 (`.number(double, exactInteger)`), so 64-bit ids survive; arrays whose elements
/// are all numbers are stored as `.numbers([Double])` (feature vectors of thousands of
/// values, without a boxed enum per element). Objects keep their members in document
/// order; a name given twice is a parse error.
///
///     if case .numbers(let v)? = try JSONReader.parse(body)["candidates"]?.elements?.first?["features"]?["x"] { … }
public enum JSONValue: Equatable, Sendable {
  case null
  case bool(Bool)
  case number(Double, Int64?)
  case string(String)
  case numbers([Double])
  case array([JSONValue])
  case object([(String, JSONValue)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case let (.bool(x), .bool(y)): return x == y
    case let (.number(x, _), .number(y, _)): return x == y
    case let (.string(x), .string(y)): return x == y
    case let (.array(x), .array(y)): return x == y
    case let (.numbers(x), .numbers(y)): return x == y
    case let (.numbers(x), .array(y)), let (.array(y), .numbers(x)):
      return x.count == y.count && zip(x, y).allSatisfy { .number($0, nil) == $1 }
    case let (.object(x), .object(y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  /// The member `name` of an object (nil for other values or when absent).
  public subscript(name: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.0 == name }?.1
  }

  /// The kind of value, for error messages ("expected an array, got a string").
  public var kind: String {
    switch self {
    case .null: return "null"
    case .bool: return "a boolean"
    case .number: return "a number"
    case .string: return "a string"
    case .numbers, .array: return "an array"
    case .object: return "an object"
    }
  }

  /// The elements of an array, numbers included (nil for other values).
  public var elements: [JSONValue]? {
    switch self {
    case .array(let a): return a
    case .numbers(let n): return n.map { .number($0, nil) }
    default: return nil
    }
  }
}
