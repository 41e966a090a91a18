import Foundation
import TMLData

/// Turns a JSON feature object `{<segdense feature name>: value, …}` into a serialized
/// tf.Example, checked against the ranker's segdense schema:
///
/// | schema dtype | JSON value |
/// |---|---|
/// | `float_list`, length n | an array of n numbers (a bare number when n = 1) |
/// | `int64_list`, length n | an array of n integers, or decimal strings for ids beyond 2^53 (a bare one when n = 1) |
/// | `bytes_list`, length n | an array of n strings (UTF-8 bytes) |
///
/// A name that is not in the schema, a wrong length, a fraction or out-of-range value for
/// an int64 feature, or a wrong JSON type is a 400 naming the JSON path and the feature.
/// Features left out are absent from the record, so the ranker's `RecapBatchBuilder`
/// fills them exactly as for training data (zeros, `FixedLenFeature` defaults).
///
///     let record = try encoder.encode(try encoder.features(json["features"]!, path: "candidates[0].features"))
public struct FeatureEncoder: Sendable {
  public let schema: SegdenseSchema

  public init(schema: SegdenseSchema) { self.schema = schema }

  /// The features of `object` (at JSON path `path`) as tf.Example features.
  public func features(_ object: JSONValue, path: String) throws -> [String: Tensorflow_Feature] {
    guard case .object(let members) = object else {
      throw ServeError.badRequest("\(path): expected an object {feature name: value}, got \(object.kind)")
    }
    let unknown = members.map(\.0).filter { schema[$0] == nil }
    guard unknown.isEmpty else {
      let names = unknown.map { "\"\($0)\"" }.joined(separator: ", ")
      throw ServeError.badRequest("\(path): unknown feature\(unknown.count == 1 ? "" : "s") \(names); features are the segdense schema's names (\(schema.features.count) features, e.g. \"\(schema.features[0].featureName)\")")
    }
    var out: [String: Tensorflow_Feature] = [:]
    for (name, value) in members {
      out[name] = try feature(value, spec: schema[name]!, path: "\(path).\(name)")
    }
    return out
  }

  /// Serializes `features` as one tf.Example.
  public func encode(_ features: [String: Tensorflow_Feature]) throws -> [UInt8] {
    try Tensorflow_Example(features: features).serializedBytes()
  }

  private func feature(_ value: JSONValue, spec: SegdenseSchema.Feature, path: String) throws -> Tensorflow_Feature {
    let items: [JSONValue]
    switch value {
    case .number, .string: items = [value]
    case .numbers(let n):
      if spec.dtype == .floatList {
        guard n.count == spec.length else { throw lengthError(n.count, spec, path) }
        return .floats(n.map { Float($0) })
      }
      items = n.map { .number($0, Int64(exactly: $0)) }
    case .array(let a): items = a
    default:
      throw ServeError.badRequest("\(path): expected \(spec.length == 1 ? "a value or " : "")an array of \(spec.length) \(noun(spec.dtype)), got \(value.kind)")
    }
    guard items.count == spec.length else { throw lengthError(items.count, spec, path) }
    switch spec.dtype {
    case .floatList:
      return .floats(try items.enumerated().map { i, v in
        guard case .number(let d, _) = v else { throw elementError(v, i, spec, path) }
        return Float(d)
      })
    case .int64List:
      return .int64s(try items.enumerated().map { i, v in
        switch v {
        case .number(_, let exact?): return exact
        case .string(let s):
          if let x = Int64(s) { return x }
          throw ServeError.badRequest("\(path)[\(i)]: \"\(s)\" is not a decimal int64 (feature \(spec.featureName) is an int64_list)")
        case .number(let d, nil):
          throw ServeError.badRequest("\(path)[\(i)]: \(d) is not an int64 (feature \(spec.featureName) is an int64_list; write integers, or decimal strings beyond 2^53)")
        default: throw elementError(v, i, spec, path)
        }
      })
    case .bytesList:
      return .bytes(try items.enumerated().map { i, v in
        guard case .string(let s) = v else { throw elementError(v, i, spec, path) }
        return Data(s.utf8)
      })
    }
  }

  private func noun(_ d: SegdenseSchema.DType) -> String {
    switch d {
    case .floatList: return "numbers"
    case .int64List: return "integers"
    case .bytesList: return "strings"
    }
  }

  private func lengthError(_ got: Int, _ spec: SegdenseSchema.Feature, _ path: String) -> ServeError {
    ServeError.badRequest("\(path): feature \(spec.featureName) has \(got) value\(got == 1 ? "" : "s"); the schema's \(spec.dtype.rawValue) has length \(spec.length)")
  }

  private func elementError(_ v: JSONValue, _ i: Int, _ spec: SegdenseSchema.Feature, _ path: String) -> ServeError {
    ServeError.badRequest("\(path)[\(i)]: expected one of \(noun(spec.dtype)) (feature \(spec.featureName) is a \(spec.dtype.rawValue)), got \(v.kind)")
  }
}
