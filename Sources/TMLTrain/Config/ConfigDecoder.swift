import Foundation

/// Decodes `Decodable` types from a `ConfigNode` with the original's (pydantic v1)
/// value rules, throwing `ConfigError`s that carry the key path and line:
///
/// - `null` decodes as absent: `decodeIfPresent` gives `nil`, a required value is
///   reported missing.
/// - Numbers: ints and floats as written; a quoted number is accepted where a number
///   is expected (pydantic coerces it); a float with an integral value is an int.
/// - Bools: `true/false`, `yes/no`, `on/off` in YAML 1.1 spellings.
/// - Strings: any scalar, as written.
/// - Mapping keys keep document order (`allKeys`), which `ConfigMap` relies on.
///
///     let config = try ConfigDecoder().decode(TrainingConfig.self, from: node)
public struct ConfigDecoder {
  public var userInfo: [CodingUserInfoKey: Any] = [:]

  public init() {}

  public func decode<T: Decodable>(_ type: T.Type, from node: ConfigNode) throws -> T {
    try T(from: NodeDecoder(node: node, codingPath: [], userInfo: userInfo))
  }
}

/// The `Decoder` over one node.
struct NodeDecoder: Decoder {
  let node: ConfigNode
  let codingPath: [any CodingKey]
  let userInfo: [CodingUserInfoKey: Any]

  func child(_ node: ConfigNode, _ key: any CodingKey) -> NodeDecoder {
    NodeDecoder(node: node, codingPath: codingPath + [key], userInfo: userInfo)
  }

  func error(_ kind: ConfigError.Kind, _ problem: String, _ fix: String) -> ConfigError {
    var e = ConfigError(kind, codingPath: codingPath, problem: problem, fix: fix)
    e.line = node.line > 0 ? node.line : nil
    return e
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard case .mapping(let entries) = node.value else {
      if node.isNull {
        throw error(.missingKey, "a mapping (key: value pairs) is required here but the value is null",
                    "Write the section's keys under it, or remove the key if the section is optional.")
      }
      throw error(.typeMismatch, "expected a mapping (key: value pairs), found \(node.kindDescription)",
                  "Write this section as indented 'key: value' lines.")
    }
    return KeyedDecodingContainer(NodeKeyedContainer<Key>(decoder: self, entries: entries))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    guard case .sequence(let items) = node.value else {
      if node.isNull {
        throw error(.missingKey, "a list is required here but the value is null", "Give a list ('- item' lines or [a, b]).")
      }
      throw error(.typeMismatch, "expected a list, found \(node.kindDescription)",
                  "Write a list: '- item' lines or [a, b].")
    }
    return NodeUnkeyedContainer(decoder: self, items: items)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer { NodeSingleValueContainer(decoder: self) }
}

/// A key for a `superDecoder` call without a key and for list positions.
struct ConfigIndexKey: CodingKey {
  var stringValue: String
  var intValue: Int?
  init(_ i: Int) { stringValue = "\(i)"; intValue = i }
  init?(stringValue: String) { self.stringValue = stringValue; intValue = nil }
  init?(intValue: Int) { self.init(intValue) }
}

struct NodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let decoder: NodeDecoder
  let entries: [ConfigNode.Entry]

  var codingPath: [any CodingKey] { decoder.codingPath }
  var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }

  func contains(_ key: Key) -> Bool { entries.contains { $0.key == key.stringValue } }

  private func node(_ key: Key) -> ConfigNode? { entries.first { $0.key == key.stringValue }?.value }

  private func present(_ key: Key) throws -> NodeDecoder {
    let found = node(key)
    guard let found, !found.isNull else {
      var e = ConfigError(.missingKey, codingPath: codingPath + [key],
                          problem: found == nil ? "required key '\(key.stringValue)' is missing"
                                               : "required key '\(key.stringValue)' is null",
                          fix: "Set '\(key.stringValue)' in this section.")
      e.line = decoder.node.line > 0 ? decoder.node.line : nil
      throw e
    }
    return decoder.child(found, key)
  }

  func decodeNil(forKey key: Key) throws -> Bool { node(key)?.isNull ?? true }

  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try T(from: present(key)) }

  func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Bool(from: present(key)) }
  func decode(_ type: String.Type, forKey key: Key) throws -> String { try String(from: present(key)) }
  func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Double(from: present(key)) }
  func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try Float(from: present(key)) }
  func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Int(from: present(key)) }
  func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Int8(from: present(key)) }
  func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Int16(from: present(key)) }
  func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Int32(from: present(key)) }
  func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Int64(from: present(key)) }
  func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try UInt(from: present(key)) }
  func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try UInt8(from: present(key)) }
  func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try UInt16(from: present(key)) }
  func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try UInt32(from: present(key)) }
  func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try UInt64(from: present(key)) }

  func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
    -> KeyedDecodingContainer<NestedKey>
  {
    try present(key).container(keyedBy: type)
  }

  func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
    try present(key).unkeyedContainer()
  }

  func superDecoder() throws -> any Decoder {
    let node = entries.first { $0.key == "super" }?.value ?? ConfigNode(.null, line: decoder.node.line)
    return decoder.child(node, ConfigIndexKey(stringValue: "super")!)
  }

  /// The decoder at `key`; a missing key gives a `null` node (so optional sections work).
  func superDecoder(forKey key: Key) throws -> any Decoder {
    decoder.child(node(key) ?? ConfigNode(.null, line: decoder.node.line), key)
  }
}

struct NodeUnkeyedContainer: UnkeyedDecodingContainer {
  let decoder: NodeDecoder
  let items: [ConfigNode]
  var currentIndex = 0

  init(decoder: NodeDecoder, items: [ConfigNode]) {
    self.decoder = decoder
    self.items = items
  }

  var codingPath: [any CodingKey] { decoder.codingPath }
  var count: Int? { items.count }
  var isAtEnd: Bool { currentIndex >= items.count }

  private mutating func next() throws -> NodeDecoder {
    guard !isAtEnd else {
      throw decoder.error(.typeMismatch, "the list has too few items (\(items.count))", "Add the missing items.")
    }
    defer { currentIndex += 1 }
    return decoder.child(items[currentIndex], ConfigIndexKey(currentIndex))
  }

  mutating func decodeNil() throws -> Bool {
    guard !isAtEnd, items[currentIndex].isNull else { return false }
    currentIndex += 1
    return true
  }

  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: next()) }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
    -> KeyedDecodingContainer<NestedKey>
  {
    try next().container(keyedBy: type)
  }

  mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
  mutating func superDecoder() throws -> any Decoder { try next() }
}

/// Scalars: the value rules of `ConfigDecoder`.
struct NodeSingleValueContainer: SingleValueDecodingContainer {
  let decoder: NodeDecoder
  var codingPath: [any CodingKey] { decoder.codingPath }

  func decodeNil() -> Bool { decoder.node.isNull }

  private func scalar(_ expected: String, _ fix: String) throws -> (String, ConfigNode.ScalarKind) {
    switch decoder.node.value {
    case .scalar(let text, let kind): return (text, kind)
    case .null:
      throw decoder.error(.missingKey, "\(expected) is required here but the value is null", fix)
    default:
      throw decoder.error(.typeMismatch, "expected \(expected), found \(decoder.node.kindDescription)", fix)
    }
  }

  func decode(_ type: Bool.Type) throws -> Bool {
    let fix = "Write true or false."
    let (text, kind) = try scalar("true or false", fix)
    if kind != .string {
      switch text.lowercased() {
      case "true", "yes", "on": return true
      case "false", "no", "off": return false
      default: break
      }
    }
    throw decoder.error(.typeMismatch, "expected true or false, found '\(text)'", fix)
  }

  func decode(_ type: String.Type) throws -> String {
    try scalar("a string", "Write a value (quote it if it has special characters).").0
  }

  func decode(_ type: Double.Type) throws -> Double {
    let fix = "Write a number such as 0.001 or 1.0e-07."
    let (text, kind) = try scalar("a number", fix)
    if kind != .bool, let v = ConfigNumber.double(text) { return v }
    throw decoder.error(.typeMismatch, "expected a number, found '\(text)'", fix)
  }

  func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

  private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
    let fix = "Write a whole number such as 128."
    let (text, kind) = try scalar("a whole number", fix)
    guard kind != .bool, let v = ConfigNumber.integer(text) else {
      throw decoder.error(.typeMismatch, "expected a whole number, found '\(text)'", fix)
    }
    guard let out = T(exactly: v) else {
      throw decoder.error(.invalidValue, "\(text) is out of range for this value", "Use a smaller number.")
    }
    return out
  }

  func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
  func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
  func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
  func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
  func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
  func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
  func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
  func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
  func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
  func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

  func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: decoder) }
}

/// YAML 1.1 number spellings (underscores, `0x`, `0o`, `.inf`, `.nan`).
enum ConfigNumber {
  static func double(_ text: String) -> Double? {
    let t = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
    switch t.lowercased() {
    case ".inf", "+.inf", "inf", "+inf", "infinity": return .infinity
    case "-.inf", "-inf", "-infinity": return -.infinity
    case ".nan", "nan": return .nan
    default: break
    }
    if let i = integer(t) { return Double(i) }
    guard t.contains(where: { $0.isNumber }) else { return nil }
    return Double(t)
  }

  static func integer(_ text: String) -> Int64? {
    var t = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
    var sign: Int64 = 1
    if t.hasPrefix("-") { sign = -1; t.removeFirst() } else if t.hasPrefix("+") { t.removeFirst() }
    let lower = t.lowercased()
    let magnitude: Int64?
    if lower.hasPrefix("0x") {
      magnitude = Int64(lower.dropFirst(2), radix: 16)
    } else if lower.hasPrefix("0o") {
      magnitude = Int64(lower.dropFirst(2), radix: 8)
    } else if lower.hasPrefix("0b") {
      magnitude = Int64(lower.dropFirst(2), radix: 2)
    } else if let v = Int64(lower) {
      magnitude = v
    } else if let d = Double(lower), d.isFinite, d == d.rounded(), abs(d) < 9.0e18 {
      magnitude = Int64(d)  // 1.0e3 → 1000, as pydantic accepts an integral float
    } else {
      magnitude = nil
    }
    return magnitude.map { sign * $0 }
  }
}
