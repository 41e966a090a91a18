import Foundation
import TMLData

/// The body of `POST /v1/rank` (schema in docs/serving.md and docs/openapi.yaml):
///
///     {"user": {"features": {<name>: value, …}},                 optional, shared by every candidate
///      "candidates": [{"id": "t1", "features": {<name>: value, …}},
///                     {"id": "t2", "example": "<base64 tf.Example>"}, …],
///      "weights": {<head>: weight, …},                            optional, over the server's weights
///      "top": 10}                                                 optional, return only the best k
///
/// Each candidate gives its features by segdense name (`FeatureEncoder`) or as one
/// serialized tf.Example in base64; the user's features are added to every candidate (a
/// feature given both by the user and a candidate is a 400). Decoding checks everything
/// it can before the model runs and names the JSON path of the first problem.
public struct RankRequest {
  public struct Candidate {
    /// The caller's id, echoed in the reply (a string or an integer; the index when absent).
    public var id: JSONValue
    public var record: [UInt8]
  }

  public var candidates: [Candidate]
  public var weights: [String: Double]
  public var top: Int?

  static let members: Set<String> = ["user", "candidates", "weights", "top"]

  /// Decodes `body`; more than `maxCandidates` candidates is a 413.
  public static func decode(_ body: JSONValue, encoder: FeatureEncoder, maxCandidates: Int) throws -> RankRequest {
    guard case .object(let members) = body else { throw ServeError.badRequest("body: expected a JSON object, got \(body.kind)") }
    try RankRequest.checkMembers(members, allowed: RankRequest.members, path: "body")
    let user = try userFeatures(body["user"], encoder: encoder, path: "user")
    guard let list = body["candidates"] else { throw ServeError.badRequest("body: missing \"candidates\" (an array of {id, features} or {id, example})") }
    let candidates = try decodeCandidates(list, user: user, encoder: encoder, maxCandidates: maxCandidates, path: "candidates")
    return RankRequest(candidates: candidates, weights: try weights(body["weights"]), top: try top(body["top"]))
  }

  /// The `user.features` object as tf.Example features (empty when absent).
  static func userFeatures(_ user: JSONValue?, encoder: FeatureEncoder, path: String) throws -> [String: Tensorflow_Feature] {
    guard let user else { return [:] }
    guard case .object(let members) = user else { throw ServeError.badRequest("\(path): expected an object {\"features\": {…}}, got \(user.kind)") }
    try checkMembers(members, allowed: ["features", "id"], path: path)
    guard let f = user["features"] else { return [:] }
    return try encoder.features(f, path: "\(path).features")
  }

  /// A list of candidates at `path`, each with the user's features added.
  static func decodeCandidates(_ list: JSONValue, user: [String: Tensorflow_Feature], encoder: FeatureEncoder, maxCandidates: Int,
                               path: String, extraMembers: Set<String> = []) throws -> [Candidate] {
    guard let items = list.elements else { throw ServeError.badRequest("\(path): expected an array of candidates, got \(list.kind)") }
    guard items.count <= maxCandidates else {
      throw ServeError.tooLarge("\(path): \(items.count) candidates, more than the server's limit of \(maxCandidates) (--max-candidates); split the request")
    }
    return try items.enumerated().map { i, item in
      try candidate(item, index: i, user: user, encoder: encoder, path: "\(path)[\(i)]", extraMembers: extraMembers)
    }
  }

  static func candidate(_ item: JSONValue, index: Int, user: [String: Tensorflow_Feature], encoder: FeatureEncoder, path: String,
                        extraMembers: Set<String>) throws -> Candidate {
    guard case .object(let members) = item else { throw ServeError.badRequest("\(path): expected an object {id, features} or {id, example}, got \(item.kind)") }
    try checkMembers(members, allowed: Set(["id", "features", "example"]).union(extraMembers), path: path)
    let id = item["id"] ?? .number(Double(index), Int64(index))
    switch id {
    case .string, .number: break
    default: throw ServeError.badRequest("\(path).id: expected a string or a number, got \(id.kind)")
    }
    switch (item["features"], item["example"]) {
    case (let f?, nil):
      var features = try encoder.features(f, path: "\(path).features")
      try merge(user, into: &features, path: "\(path).features")
      return Candidate(id: id, record: try encoder.encode(features))
    case (nil, let e?):
      guard case .string(let text) = e else { throw ServeError.badRequest("\(path).example: expected a base64 string, got \(e.kind)") }
      guard let data = Data(base64Encoded: text) else {
        throw ServeError.badRequest("\(path).example: not valid base64 (standard alphabet, with padding)")
      }
      var bytes = [UInt8](data)
      if !user.isEmpty {
        var example: Tensorflow_Example
        do { example = try Tensorflow_Example.decode(bytes, origin: "\(path).example") } catch let e as DataError {
          throw ServeError.badRequest(e.message)
        }
        try merge(user, into: &example.features.feature, path: "\(path).example")
        bytes = try example.serializedBytes()
      }
      return Candidate(id: id, record: bytes)
    case (nil, nil): throw ServeError.badRequest("\(path): give either \"features\" or \"example\"")
    case (_?, _?): throw ServeError.badRequest("\(path): give either \"features\" or \"example\", not both")
    }
  }

  static func merge(_ user: [String: Tensorflow_Feature], into features: inout [String: Tensorflow_Feature], path: String) throws {
    for (name, f) in user {
      guard features[name] == nil else {
        throw ServeError.badRequest("\(path): feature \"\(name)\" is given both here and in user.features; give it once")
      }
      features[name] = f
    }
  }

  static func checkMembers(_ members: [(String, JSONValue)], allowed: Set<String>, path: String) throws {
    let unknown = members.map(\.0).filter { !allowed.contains($0) }
    guard unknown.isEmpty else {
      throw ServeError.badRequest("\(path): unknown member\(unknown.count == 1 ? "" : "s") \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")); allowed: \(allowed.sorted().joined(separator: ", "))")
    }
  }

  static func weights(_ value: JSONValue?) throws -> [String: Double] {
    guard let value else { return [:] }
    guard case .object(let members) = value else { throw ServeError.badRequest("weights: expected an object {head: weight}, got \(value.kind)") }
    var out: [String: Double] = [:]
    for (head, w) in members {
      guard case .number(let d, _) = w else { throw ServeError.badRequest("weights.\(head): expected a number, got \(w.kind)") }
      out[head] = d
    }
    return out
  }

  static func top(_ value: JSONValue?) throws -> Int? {
    guard let value else { return nil }
    guard case .number(_, let k?) = value, k >= 0, k <= Int64(Int32.max) else {
      throw ServeError.badRequest("top: expected a non-negative integer, got \(value.kind == "a number" ? "\(value)" : value.kind)")
    }
    return Int(k)
  }
}
