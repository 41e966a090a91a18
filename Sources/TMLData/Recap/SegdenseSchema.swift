import Foundation
import TMLIO

/// The ranker's feature schema (`segdense.json`):
///
///     {"schema": [{"feature_name": "home_recap_2022_cont__segdense_vals",
///                  "dtype": "float_list", "length": 6000}, …]}
///
/// `dtype` is `float_list` or `int64_list` (or `bytes_list`); `length` is the fixed
/// number of values (`tf.io.FixedLenFeature([length])`): a missing feature reads as
/// zeros, a present one must have exactly `length` values.
public struct SegdenseSchema: Equatable, Sendable {
  public enum DType: String, Codable, Sendable { case floatList = "float_list", int64List = "int64_list", bytesList = "bytes_list" }

  public struct Feature: Equatable, Codable, Sendable {
    public var featureName: String
    public var dtype: DType
    public var length: Int

    enum CodingKeys: String, CodingKey { case featureName = "feature_name", dtype, length }

    public init(featureName: String, dtype: DType, length: Int) {
      self.featureName = featureName
      self.dtype = dtype
      self.length = length
    }
  }

  public var features: [Feature]
  private var index: [String: Int]

  public init(features: [Feature]) throws {
    self.features = features
    index = [:]
    for (i, f) in features.enumerated() {
      guard f.length > 0 else { throw DataError("segdense schema: feature \(f.featureName) has length \(f.length); lengths must be positive") }
      guard index.updateValue(i, forKey: f.featureName) == nil else {
        throw DataError("segdense schema: feature \(f.featureName) is listed twice")
      }
    }
  }

  /// Loads a `segdense.json` file.
  public init(contentsOf url: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw DataError("\(url.path): cannot read the segdense schema (\(FileError.reason(of: error))); check seg_dense_schema.schema_path")
    }
    struct File: Decodable { let schema: [Feature] }
    do {
      try self.init(features: try JSONDecoder().decode(File.self, from: data).schema)
    } catch let e as DataError {
      throw DataError("\(url.path): \(e.message)")
    } catch let DecodingError.keyNotFound(key, ctx) {
      throw DataError("\(url.path): missing key \"\(key.stringValue)\" at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
    } catch let DecodingError.dataCorrupted(ctx) {
      throw DataError("\(url.path): invalid value at \(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)")
    } catch {
      throw DataError("\(url.path): not a segdense schema ({\"schema\": [{feature_name, dtype, length}, …]}): \(error)")
    }
  }

  public subscript(name: String) -> Feature? { index[name].map { features[$0] } }
}
