import Foundation

/// One step of a config key path: a schema field (`mlp_config`), an entry of a
/// user-keyed map (`["recap.engagement.is_favorited"]`) or a list index (`[2]`).
///
/// Map entries are always printed in brackets and quotes, because their names may
/// contain dots (task names do): `model.tasks["recap.engagement.is_favorited"].mlp_config`.
public enum ConfigPathComponent: Equatable, Sendable, CustomStringConvertible {
  case field(String)
  case entry(String)
  case index(Int)

  /// `file:line: key.path: problem. fix` (no key path for unreadable files and syntax errors).
  public var description: String {
    switch self {
    case .field(let name): return name
    case .entry(let key): return "[\"\(key)\"]"
    case .index(let i): return "[\(i)]"
    }
  }

  /// The component a `CodingKey` stands for: an index when it has an int value, an entry
  /// when it is the key type of a map (`ConfigMap`, `Dictionary`), a field otherwise.
  public init(_ key: any CodingKey) {
    if let i = key.intValue, !(key is ConfigMapKey) {
      self = .index(i)
    } else if key is ConfigMapKey || String(describing: type(of: key)).contains("DictionaryCodingKey") {
      self = .entry(key.stringValue)
    } else {
      self = .field(key.stringValue)
    }
  }

  /// Formats a path: fields joined by dots, entries and indices in brackets.
  /// `[]` is the document itself, printed `(top level)`.
  public static func format(_ path: [ConfigPathComponent]) -> String {
    guard !path.isEmpty else { return "(top level)" }
    var out = ""
    for component in path {
      if case .field = component, !out.isEmpty { out += "." }
      out += component.description
    }
    return out
  }
}

/// A config that cannot be loaded: what is wrong, where (file, line, key path), and
/// what to do about it.
///
///     recap.yaml:64: model.tasks["recap.engagement.is_favorited"].mlp_config.layer_size:
///     unknown key. mlp_config accepts: layer_sizes, batch_norm, dropout,
///     final_layer_activation. Did you mean 'layer_sizes'? Fix the spelling or remove the key.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
  public enum Kind: Equatable, Sendable {
    /// The file could not be read.
    case unreadable
    /// The text is not valid YAML.
    case syntax
    /// A key that the schema does not have.
    case unknownKey
    /// A required key is absent or null.
    case missingKey
    /// A `one_of` / `at_most_one_of` group is violated.
    case oneOf
    /// A value of the wrong type (a list where a number belongs …).
    case typeMismatch
    /// A value of the right type that breaks a constraint (a negative batch size …).
    case invalidValue
    /// A `${VAR}` / `$VAR` whose environment variable is not set.
    case unsetVariable
  }

  public var kind: Kind
  /// The config file (as given to the loader), or `<string>` for inline YAML.
  public var file: String?
  /// 1-based line of the offending key or value, where known.
  public var line: Int?
  public var path: [ConfigPathComponent]
  /// What is wrong, without location.
  public var problem: String
  /// What to do about it.
  public var fix: String

  public init(_ kind: Kind, path: [ConfigPathComponent], problem: String, fix: String,
              file: String? = nil, line: Int? = nil) {
    self.kind = kind
    self.path = path
    self.problem = problem
    self.fix = fix
    self.file = file
    self.line = line
  }

  public init(_ kind: Kind, codingPath: [any CodingKey], problem: String, fix: String) {
    self.init(kind, path: codingPath.map(ConfigPathComponent.init), problem: problem, fix: fix)
  }

  /// The formatted key path, e.g. `model.tasks["recap.engagement.is_favorited"].pos_weight`.
  public var keyPath: String { ConfigPathComponent.format(path) }

  /// `file:line: key.path: problem. fix` (no key path for unreadable files and syntax errors).
  public var description: String {
    var location = file ?? "<config>"
    if let line { location += ":\(line)" }
    let sentenceEnd = problem.hasSuffix(".") ? "" : "."
    let at = kind == .syntax || kind == .unreadable || kind == .unsetVariable ? "" : "\(keyPath): "
    return "\(location): \(at)\(problem)\(sentenceEnd) \(fix)"
  }

  public var errorDescription: String? { description }
}

extension ConfigError {
  /// Converts a Foundation `DecodingError` (thrown by a type's own `init(from:)`) into a
  /// `ConfigError` with the same key path.
  init(_ error: DecodingError) {
    switch error {
    case .keyNotFound(let key, let context):
      self.init(.missingKey, codingPath: context.codingPath + [key],
                problem: "required key '\(key.stringValue)' is missing",
                fix: "Add it (see the schema in docs) and load again.")
    case .valueNotFound(_, let context):
      self.init(.missingKey, codingPath: context.codingPath,
                problem: "a value is required here but is null or absent", fix: "Set a value.")
    case .typeMismatch(let type, let context):
      self.init(.typeMismatch, codingPath: context.codingPath,
                problem: "expected \(type): \(context.debugDescription)", fix: "Change the value to the expected type.")
    case .dataCorrupted(let context):
      self.init(.invalidValue, codingPath: context.codingPath,
                problem: context.debugDescription, fix: "Correct the value.")
    @unknown default:
      self.init(.invalidValue, path: [], problem: "\(error)", fix: "Correct the config.")
    }
  }
}
