import Foundation

/// A string enum in a config (the original's `str, Enum` fields). Decoding an unknown
/// value fails with a `ConfigError` that lists the accepted values.
///
///     public enum Compression: String, ConfigEnum { case auto = "AUTO" }
public protocol ConfigEnum: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension ConfigEnum {
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let value = Self(rawValue: text) else {
      let accepted = Self.allCases.map(\.rawValue)
      throw ConfigError(.invalidValue, codingPath: decoder.codingPath,
                        problem: "'\(text)' is not one of \(accepted.joined(separator: ", "))",
                        fix: "Use one of the accepted values (spelled exactly).")
    }
    self = value
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
}
