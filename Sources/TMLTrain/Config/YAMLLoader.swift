import Foundation
import TMLIO
import Yams

/// Loads a config as the original's `load_config_from_yaml` does: read the file,
/// substitute `${VAR}`/`$VAR` from the environment (`EnvironmentTemplate`; a variable
/// that is not set is an error naming the line, unless `allowUnsetEnvironment` leaves it
/// as written like the original's `safe_substitute`), parse the
/// YAML (anchors, aliases, `<<:` merge keys), and decode the typed config strictly
/// (unknown keys, missing required keys and broken `one_of` groups are errors).
///
/// Every failure is a `ConfigError` naming the file, the line, the full key path and
/// what to do.
///
///     let config = try YAMLLoader.load(RecapConfig.self, from: "configs/recap.yaml")
public enum YAMLLoader {
  /// Loads and decodes the file at `path`. `environment` defaults to the process
  /// environment (with `USER` = login name).
  public static func load<T: Decodable>(_ type: T.Type, from path: String, environment: [String: String]? = nil,
                                        allowUnsetEnvironment: Bool = false) throws -> T {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw ConfigError(.unreadable, path: [], problem: "cannot read the config file (\(FileError.reason(of: error)))",
                        fix: "Check that the path exists and is a readable UTF-8 YAML file.", file: path)
    }
    return try decode(type, yaml: text, file: path, environment: environment, allowUnsetEnvironment: allowUnsetEnvironment)
  }

  /// Decodes YAML text; `file` names it in errors.
  public static func decode<T: Decodable>(_ type: T.Type, yaml: String, file: String = "<string>", environment: [String: String]? = nil,
                                          allowUnsetEnvironment: Bool = false) throws -> T {
    let (substituted, unset) = EnvironmentTemplate.expand(yaml, environment ?? EnvironmentTemplate.processVariables())
    if !allowUnsetEnvironment, let first = unset.first {
      let others = unset.dropFirst().map { "\($0.written) at line \($0.line)" }
      throw ConfigError(.unsetVariable, path: [],
                        problem: "\(first.written) is not set in the environment\(others.isEmpty ? "" : " (also unset: \(others.joined(separator: ", ")))")",
                        fix: "Set it (export \(first.name)=…), write $$ for a literal $, or allow unset variables to stay as written, as the original's safe_substitute does (tml: --allow-unset-env).",
                        file: file, line: first.line)
    }
    let root = try ConfigNode.parse(yaml: substituted, file: file)
    return try decode(type, node: root, file: file)
  }

  /// Decodes a parsed document, adding `file` and the line to any error.
  public static func decode<T: Decodable>(_ type: T.Type, node root: ConfigNode, file: String) throws -> T {
    do {
      return try ConfigDecoder().decode(type, from: root)
    } catch var error as ConfigError {
      error.file = error.file ?? file
      error.line = root.line(at: error.path) ?? error.line  // the deepest key on the path that exists
      throw error
    } catch let error as DecodingError {
      var converted = ConfigError(error)
      converted.file = file
      converted.line = root.line(at: converted.path)
      throw converted
    }
  }

  /// The config as YAML with every default filled in, keys in schema order and maps in
  /// file order (the original's `pretty_print`): for logs and for saving beside checkpoints.
  /// Decoding the text gives the same config back.
  public static func yaml<T: Encodable>(of config: T) throws -> String {
    try YAMLEncoder().encode(config)
  }
}
