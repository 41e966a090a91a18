import Foundation

/// The coding key of a `ConfigMap` entry: a user-chosen name such as a task name.
/// Error paths print it in brackets, `tasks["recap.engagement.is_favorited"]`.
public struct ConfigMapKey: CodingKey, Hashable, Sendable {
  public var stringValue: String
  public var intValue: Int? { nil }
  public init(_ key: String) { stringValue = key }
  public init?(stringValue: String) { self.stringValue = stringValue }
  public init?(intValue: Int) { stringValue = "\(intValue)" }
}

/// A string-keyed map that keeps the order of the config file — the original's
/// `Dict[str, X]` fields, whose order matters (the ranker's task towers and labels
/// follow the order the tasks are written in).
///
///     let tasks = config.model.tasks          // ConfigMap<RecapTaskModelConfig>
///     tasks.keys                              // ["recap.engagement.is_favorited", …] in file order
///     tasks["recap.engagement.is_replied"]?.posWeight
///     for (name, task) in tasks { … }
public struct ConfigMap<Value> {
  public private(set) var keys: [String]
  private var storage: [String: Value]

  public init() {
    keys = []
    storage = [:]
  }

  /// Entries in the given order; a repeated key keeps its first position and its last value.
  public init<S: Sequence>(_ entries: S) where S.Element == (String, Value) {
    self.init()
    for (key, value) in entries { self[key] = value }
  }

  public subscript(key: String) -> Value? {
    get { storage[key] }
    set {
      if let newValue {
        if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
      } else if storage.removeValue(forKey: key) != nil {
        keys.removeAll { $0 == key }
      }
    }
  }

  public var values: [Value] { keys.map { storage[$0]! } }
  public var count: Int { keys.count }
  public var isEmpty: Bool { keys.isEmpty }
  /// The entries as an unordered dictionary.
  public var dictionary: [String: Value] { storage }

  public func mapValues<T>(_ transform: (Value) throws -> T) rethrows -> ConfigMap<T> {
    var out = ConfigMap<T>()
    for key in keys { out[key] = try transform(storage[key]!) }
    return out
  }
}

extension ConfigMap: Sequence {
  public typealias Element = (key: String, value: Value)
  public func makeIterator() -> AnyIterator<Element> {
    var i = 0
    return AnyIterator {
      guard i < keys.count else { return nil }
      defer { i += 1 }
      return (keys[i], storage[keys[i]]!)
    }
  }
}

extension ConfigMap: ExpressibleByDictionaryLiteral {
  public init(dictionaryLiteral elements: (String, Value)...) { self.init(elements) }
}

extension ConfigMap: Equatable where Value: Equatable {
  public static func == (a: ConfigMap, b: ConfigMap) -> Bool { a.keys == b.keys && a.storage == b.storage }
}

extension ConfigMap: Sendable where Value: Sendable {}

extension ConfigMap: Decodable where Value: Decodable {
  /// Decodes a mapping's entries in document order (the decoder's `allKeys` order).
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: ConfigMapKey.self)
    self.init()
    for key in container.allKeys { self[key.stringValue] = try container.decode(Value.self, forKey: key) }
  }
}

extension ConfigMap: Encodable where Value: Encodable {
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: ConfigMapKey.self)
    for (key, value) in self { try container.encode(value, forKey: ConfigMapKey(key)) }
  }
}

extension ConfigMap: CustomStringConvertible {
  public var description: String {
    "[" + map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "]"
  }
}
