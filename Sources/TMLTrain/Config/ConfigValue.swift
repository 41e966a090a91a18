import Foundation

/// A free-form config value (the original's `Dict`/`Any` fields, e.g. a sampler's
/// `kwargs` or W&B `metadata`): whatever the YAML holds, with mapping order kept.
///
///     let kwargs: ConfigMap<ConfigValue> = …;  if case .int(let n)? = kwargs["n"] { … }
public indirect enum ConfigValue: Equatable, Sendable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case list([ConfigValue])
  case map(ConfigMap<ConfigValue>)

  /// The value of a parsed node, typed as YAML resolved it.
  public init(_ node: ConfigNode) {
    switch node.value {
    case .null:
      self = .null
    case .scalar(let text, let kind):
      switch kind {
      case .bool: self = ["true", "yes", "on"].contains(text.lowercased()) ? .bool(true) : .bool(false)
      case .int: self = ConfigNumber.integer(text).flatMap { Int(exactly: $0) }.map(ConfigValue.int) ?? .string(text)
      case .float: self = ConfigNumber.double(text).map(ConfigValue.double) ?? .string(text)
      case .string, .other: self = .string(text)
      }
    case .sequence(let items):
      self = .list(items.map(ConfigValue.init))
    case .mapping(let entries):
      self = .map(ConfigMap(entries.map { ($0.key, ConfigValue($0.value)) }))
    }
  }
}

extension ConfigValue: Codable {
  public init(from decoder: any Decoder) throws {
    if let nodeDecoder = decoder as? NodeDecoder {
      self.init(nodeDecoder.node)
      return
    }
    if let map = try? ConfigMap<ConfigValue>(from: decoder) {
      self = .map(map)
    } else if var list = try? decoder.unkeyedContainer() {
      var items: [ConfigValue] = []
      while !list.isAtEnd { items.append(try list.decode(ConfigValue.self)) }
      self = .list(items)
    } else {
      let c = try decoder.singleValueContainer()
      if c.decodeNil() {
        self = .null
      } else if let b = try? c.decode(Bool.self) {
        self = .bool(b)
      } else if let i = try? c.decode(Int.self) {
        self = .int(i)
      } else if let d = try? c.decode(Double.self) {
        self = .double(d)
      } else {
        self = .string(try c.decode(String.self))
      }
    }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .null:
      var c = encoder.singleValueContainer()
      try c.encodeNil()
    case .bool(let v):
      var c = encoder.singleValueContainer()
      try c.encode(v)
    case .int(let v):
      var c = encoder.singleValueContainer()
      try c.encode(v)
    case .double(let v):
      var c = encoder.singleValueContainer()
      try c.encode(v)
    case .string(let v):
      var c = encoder.singleValueContainer()
      try c.encode(v)
    case .list(let v):
      try v.encode(to: encoder)
    case .map(let v):
      try v.encode(to: encoder)
    }
  }
}
