import Foundation

/// A keyed container with the original's `BaseConfig` rules (pydantic, `extra = forbid`):
///
/// - creating it rejects any key that `Key` does not list (unknown keys name the
///   section's accepted keys and the closest match);
/// - `decode(_:)` requires a key, `decode(_:default:)` gives the schema default,
///   `decodeIfPresent(_:)` gives `nil`; an explicit `null` counts as absent in all three;
/// - `exactlyOne(of:)` / `atMostOne(of:)` check `one_of` / `at_most_one_of` groups;
/// - constraints (`.positive`, `.nonNegative`, `.allPositive`) check pydantic's
///   `PositiveInt`/`PositiveFloat`/`NonNegativeFloat`.
///
/// Every error is a `ConfigError` carrying the full key path. A section type declares its
/// YAML keys once, as `CodingKeys: String, CodingKey, CaseIterable`, and reads them:
///
///     public init(from decoder: any Decoder) throws {
///       let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
///       try c.exactlyOne(of: [.inputs, .explicitDateInputs])     // one_of group
///       inputs = try c.decodeIfPresent(.inputs)
///       explicitDateInputs = try c.decodeIfPresent(.explicitDateInputs)
///       globalBatchSize = try c.decode(.globalBatchSize, .positive)   // required PositiveInt
///       cache = try c.decode(.cache, default: false)
///     }
public struct StrictContainer<Key: CodingKey & CaseIterable> {
  public let container: KeyedDecodingContainer<Key>

  public var codingPath: [any CodingKey] { container.codingPath }

  public init(_ decoder: any Decoder, keyedBy type: Key.Type = Key.self) throws {
    let raw = try decoder.container(keyedBy: ConfigMapKey.self)
    for key in raw.allKeys where Key(stringValue: key.stringValue) == nil {
      throw Self.unknownKey(key.stringValue, at: decoder.codingPath)
    }
    container = try decoder.container(keyedBy: type)
  }

  // MARK: Reading keys

  /// Whether `key` is present with a non-null value (pydantic's "is not None").
  public func isSet(_ key: Key) -> Bool {
    container.contains(key) && !((try? container.decodeNil(forKey: key)) ?? true)
  }

  /// A required key.
  public func decode<T: Decodable>(_ key: Key, _ constraint: ConfigConstraint<T>? = nil) throws -> T {
    guard isSet(key) else {
      let problem = container.contains(key) ? "required key '\(key.stringValue)' is null" : "required key '\(key.stringValue)' is missing"
      throw error(key, .missingKey, problem, "Set '\(key.stringValue)' in \(sectionName).")
    }
    return try check(container.decode(T.self, forKey: key), key, constraint)
  }

  /// A key with a schema default, used when the key is absent or null.
  public func decode<T: Decodable>(_ key: Key, default value: T, _ constraint: ConfigConstraint<T>? = nil) throws -> T {
    try decodeIfPresent(key, constraint) ?? value
  }

  /// An optional key: `nil` when absent or null.
  public func decodeIfPresent<T: Decodable>(_ key: Key, _ constraint: ConfigConstraint<T>? = nil) throws -> T? {
    guard isSet(key) else { return nil }
    return try check(container.decode(T.self, forKey: key), key, constraint)
  }

  /// A key decoded by `body` from the decoder at that key (to pass defaults down);
  /// `default` when absent or null.
  public func decode<T>(_ key: Key, default value: T, with body: (any Decoder) throws -> T) throws -> T {
    guard isSet(key) else { return value }
    return try body(container.superDecoder(forKey: key))
  }

  // MARK: Groups

  /// The original's `one_of` group: exactly one member set (non-null).
  public func exactlyOne(of group: [Key]) throws {
    let set = group.filter(isSet)
    guard set.count != 1 else { return }
    let names = group.map(\.stringValue).joined(separator: ", ")
    if set.isEmpty {
      throw error(nil, .oneOf, "exactly one of \(names) must be set, but none is",
                  "Set one of them in \(sectionName).")
    }
    throw error(nil, .oneOf,
                "exactly one of \(names) must be set, but \(set.count) are: \(set.map(\.stringValue).joined(separator: ", "))",
                "Keep one of them and remove the others (or set them to null).")
  }

  /// The original's `at_most_one_of` group.
  public func atMostOne(of group: [Key]) throws {
    let set = group.filter(isSet)
    guard set.count > 1 else { return }
    throw error(nil, .oneOf,
                "at most one of \(group.map(\.stringValue).joined(separator: ", ")) may be set, but \(set.count) are: \(set.map(\.stringValue).joined(separator: ", "))",
                "Remove all but one of them.")
  }

  // MARK: Errors

  /// An error at `key` (or at this section when `key` is nil), for a section's own validation.
  public func error(_ key: Key?, _ kind: ConfigError.Kind = .invalidValue, _ problem: String, _ fix: String) -> ConfigError {
    ConfigError(kind, codingPath: codingPath + (key.map { [$0] } ?? []), problem: problem, fix: fix)
  }

  /// The section's name for messages: its last path component, or "the top level".
  public var sectionName: String { Self.sectionName(codingPath) }

  /// The path from the last schema field on: `mlp_config`, `tasks["a.b"]`, `mask_blocks[0]`.
  static func sectionName(_ codingPath: [any CodingKey]) -> String {
    let path = codingPath.map(ConfigPathComponent.init)
    guard !path.isEmpty else { return "the top level" }
    let start = path.lastIndex { if case .field = $0 { return true } else { return false } } ?? 0
    return ConfigPathComponent.format(Array(path[start...]))
  }

  private func check<T>(_ value: T, _ key: Key, _ constraint: ConfigConstraint<T>?) throws -> T {
    guard let constraint, !constraint.test(value) else { return value }
    throw error(key, .invalidValue, "'\(key.stringValue)' \(constraint.requirement), got \(value)", constraint.fix)
  }

  static func unknownKey(_ key: String, at codingPath: [any CodingKey]) -> ConfigError {
    let accepted = Key.allCases.map(\.stringValue)
    let section = sectionName(codingPath)
    var fix = accepted.isEmpty ? "\(section) takes no keys; write it as {}. " : "\(section) accepts: \(accepted.joined(separator: ", ")). "
    if let guess = closest(to: key, in: accepted) { fix += "Did you mean '\(guess)'? " }
    fix += "Fix the spelling or remove the key."
    return ConfigError(.unknownKey, path: codingPath.map(ConfigPathComponent.init) + [.field(key)],
                       problem: "unknown key '\(key)'", fix: fix)
  }

  /// The accepted key within edit distance ⌈len/3⌉ of `key`, if any.
  static func closest(to key: String, in candidates: [String]) -> String? {
    let limit = max(2, (key.count + 2) / 3)
    let scored = candidates.map { ($0, editDistance(Array(key.lowercased()), Array($0.lowercased()))) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= limit else { return nil }
    return best.0
  }

  static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
      var current = [i] + Array(repeating: 0, count: b.count)
      for j in stride(from: 1, through: b.count, by: 1) {
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return previous[b.count]
  }
}

/// A value constraint checked after decoding (pydantic's constrained types).
public struct ConfigConstraint<T> {
  /// Completes "'key' …", e.g. "must be > 0".
  public var requirement: String
  public var fix: String
  public var test: (T) -> Bool

  public init(requirement: String, fix: String, test: @escaping (T) -> Bool) {
    self.requirement = requirement
    self.fix = fix
    self.test = test
  }
}

extension ConfigConstraint where T: Comparable & Numeric {
  /// pydantic `PositiveInt` / `PositiveFloat`.
  public static var positive: ConfigConstraint {
    ConfigConstraint(requirement: "must be > 0", fix: "Set a positive value.") { $0 > 0 }
  }

  /// pydantic `NonNegativeFloat`.
  public static var nonNegative: ConfigConstraint {
    ConfigConstraint(requirement: "must be >= 0", fix: "Set a value of 0 or more.") { $0 >= 0 }
  }
}

extension ConfigConstraint where T == [Int] {
  /// pydantic `List[PositiveInt]`, non-empty.
  public static var allPositive: ConfigConstraint {
    ConfigConstraint(requirement: "must be a non-empty list of positive whole numbers",
                     fix: "List sizes > 0, e.g. [256, 128, 1].") { !$0.isEmpty && $0.allSatisfy { $0 > 0 } }
  }
}
