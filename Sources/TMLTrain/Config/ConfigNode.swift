import Foundation
import Yams

/// A parsed YAML document with anchors, aliases and merge keys resolved: what the
/// config decoder reads.
///
/// Merge keys (`<<: *anchor`, `<<: [*a, *b]`) follow PyYAML, which the original
/// loads with: the merged pairs come first and the mapping's own pairs after them;
/// where a key repeats, the last pair wins and the first occurrence keeps its place.
/// So an explicit key overrides a merged one, and of several merged mappings the
/// earlier listed wins.
///
///     let root = try ConfigNode.parse(yaml: "a: &x {p: 1}\nb: {<<: *x, q: 2}")
///     root["b"]?.mappingKeys  // ["p", "q"]
public struct ConfigNode: Sendable {
  /// How a scalar resolved under the YAML 1.1 core rules (quoted scalars are strings).
  public enum ScalarKind: Sendable { case string, bool, int, float, other }

  public struct Entry: Sendable {
    public var key: String
    public var value: ConfigNode
    /// 1-based line of the key.
    public var line: Int
  }

  public indirect enum Value: Sendable {
    case null
    case scalar(String, ScalarKind)
    case sequence([ConfigNode])
    case mapping([Entry])
  }

  public var value: Value
  /// 1-based line where the node starts (0 when unknown).
  public var line: Int

  public init(_ value: Value, line: Int = 0) {
    self.value = value
    self.line = line
  }

  /// The entry for `key` of a mapping, if any.
  public subscript(key: String) -> ConfigNode? { entry(key)?.value }

  public func entry(_ key: String) -> Entry? {
    guard case .mapping(let entries) = value else { return nil }
    return entries.first { $0.key == key }
  }

  /// The keys of a mapping, in document order (after merges); `nil` for other nodes.
  public var mappingKeys: [String]? {
    guard case .mapping(let entries) = value else { return nil }
    return entries.map(\.key)
  }

  public var isNull: Bool {
    if case .null = value { return true }
    return false
  }

  /// A short description of the node's kind for error messages: "a list", "null" …
  public var kindDescription: String {
    switch value {
    case .null: return "null"
    case .scalar(let text, _): return "the value '\(text)'"
    case .sequence: return "a list"
    case .mapping: return "a mapping (key: value pairs)"
    }
  }

  /// The line of the deepest node on `path` (the node itself when the whole path exists).
  public func line(at path: [ConfigPathComponent]) -> Int? {
    var node = self
    var line: Int? = self.line > 0 ? self.line : nil
    for component in path {
      switch (component, node.value) {
      case (.field(let key), .mapping), (.entry(let key), .mapping):
        guard let e = node.entry(key) else { return line }
        node = e.value
        line = e.line
      case (.index(let i), .sequence(let items)) where items.indices.contains(i):
        node = items[i]
        line = node.line > 0 ? node.line : line
      default:
        return line
      }
    }
    return line
  }
}

extension ConfigNode {
  /// Parses YAML text (one document) with Yams and resolves merge keys.
  /// An empty document is `null`. Throws `ConfigError` (`.syntax`) with the line.
  public static func parse(yaml: String, file: String = "<string>") throws -> ConfigNode {
    let root: Node?
    do {
      root = try Yams.compose(yaml: yaml)
    } catch let error as YamlError {
      throw ConfigError(syntaxError: error, file: file)
    }
    guard let root else { return ConfigNode(.null, line: 1) }
    return try ConfigNode(yams: root, file: file)
  }

  init(yams node: Node, file: String) throws {
    let line = node.mark?.line ?? 0
    // Optional accessors rather than a switch: Yams 6 adds a `.alias` case (emitter only).
    if let scalar = node.scalar {
      switch ConfigNode.tagName(node) {
      case .null: self.init(.null, line: line)
      case .str: self.init(.scalar(scalar.string, .string), line: line)
      case .bool: self.init(.scalar(scalar.string, .bool), line: line)
      case .int: self.init(.scalar(scalar.string, .int), line: line)
      case .float: self.init(.scalar(scalar.string, .float), line: line)
      default: self.init(.scalar(scalar.string, .other), line: line)
      }
    } else if let sequence = node.sequence {
      self.init(.sequence(try sequence.map { try ConfigNode(yams: $0, file: file) }), line: line)
    } else if let mapping = node.mapping {
      self.init(.mapping(try ConfigNode.entries(of: mapping, file: file)), line: line)
    } else {
      throw ConfigError(.syntax, path: [], problem: "an unresolved YAML alias", fix: "Define the anchor before its alias.",
                        file: file, line: line > 0 ? line : nil)
    }
  }

  /// The node's resolved tag (`Tag.description` is its name in every Yams version).
  private static func tagName(_ node: Node) -> Tag.Name { Tag.Name(rawValue: node.tag.description) }

  /// The mapping's entries with `<<` merge keys applied (PyYAML's `flatten_mapping`).
  private static func entries(of mapping: Node.Mapping, file: String) throws -> [Entry] {
    var merged: [Entry] = []
    var own: [Entry] = []
    for (keyNode, valueNode) in mapping {
      let keyLine = keyNode.mark?.line ?? 0
      if tagName(keyNode) == .merge {
        let value = try ConfigNode(yams: valueNode, file: file)
        switch value.value {
        case .mapping(let entries):
          merged += entries
        case .sequence(let items):
          var sources: [[Entry]] = []
          for item in items {
            guard case .mapping(let entries) = item.value else {
              throw ConfigError(.syntax, path: [], problem: "a '<<' merge list holds \(item.kindDescription), not a mapping",
                                fix: "Merge only mappings: '<<: *anchor' or '<<: [*a, *b]' with anchors on mappings.",
                                file: file, line: item.line)
            }
            sources.append(entries)
          }
          for entries in sources.reversed() { merged += entries }
        default:
          throw ConfigError(.syntax, path: [], problem: "'<<' merges \(value.kindDescription), not a mapping",
                            fix: "Write '<<: *anchor' where the anchor names a mapping, or '<<: [*a, *b]'.",
                            file: file, line: keyLine)
        }
        continue
      }
      guard let scalar = keyNode.scalar else {
        throw ConfigError(.syntax, path: [], problem: "a mapping key is a list or mapping",
                          fix: "Use plain names as keys.", file: file, line: keyLine)
      }
      let key = tagName(keyNode) == .null && scalar.string.isEmpty ? "None" : scalar.string
      own.append(Entry(key: key, value: try ConfigNode(yams: valueNode, file: file), line: keyLine))
    }
    // Python dict semantics over merged + own: first occurrence keeps its position, last value wins.
    var position: [String: Int] = [:]
    var result: [Entry] = []
    for entry in merged + own {
      if let i = position[entry.key] {
        result[i].value = entry.value
        result[i].line = entry.line
      } else {
        position[entry.key] = result.count
        result.append(entry)
      }
    }
    return result
  }
}

extension ConfigError {
  init(syntaxError error: YamlError, file: String) {
    var line: Int?
    var problem = "\(error)"
    switch error {
    case .scanner(let context, let p, let mark, _), .parser(let context, let p, let mark, _),
      .composer(let context, let p, let mark, _):
      line = mark.line
      problem = "invalid YAML: \(context.map { "\($0.text) " } ?? "")\(p) (column \(mark.column))"
    case .reader(let p, _, _, _):
      problem = "unreadable YAML text: \(p)"
    default:
      break
    }
    let fix = problem.contains("alias")
      ? "Define the anchor ('&name') before the alias ('*name') that uses it, and check the spelling."
      : "Fix the YAML syntax at that line (indentation, quoting, a missing ':'); quote values that contain '{', '}', '[', ']', ': ' or '#'."
    self.init(.syntax, path: [], problem: problem, fix: fix, file: file, line: line)
  }
}
