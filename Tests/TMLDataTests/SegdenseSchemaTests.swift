import Foundation
import XCTest
@testable import TMLData

final class SegdenseSchemaTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws { dir = try RecapTestSupport.makeTemporaryDirectory("segdense") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  /// `segdense.json` (the original's file) in $TML_REFERENCE_DIR, else in ../shared/reference
  /// next to the repository.
  func referenceURL() throws -> URL {
    let dir = ProcessInfo.processInfo.environment["TML_REFERENCE_DIR"].map { URL(fileURLWithPath: $0) }
      ?? RecapTestSupport.repoRoot.appendingPathComponent("../shared/reference")
    let url = dir.appendingPathComponent("segdense.json").standardizedFileURL
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw XCTSkip("\(url.path) absent: ../shared (the reference files beside the repository) is not checked out here")
    }
    return url
  }

  func write(_ text: String, _ name: String = "segdense.json") throws -> URL {
    let url = dir.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url
  }

  func testReferenceSchemaLoadsWithItsTwentyTwoFeatures() throws {
    let schema = try SegdenseSchema(contentsOf: try referenceURL())
    XCTAssertEqual(schema.features.count, 22)
    XCTAssertEqual(schema["home_recap_2022_cont__segdense_vals"], .init(featureName: "home_recap_2022_cont__segdense_vals", dtype: .floatList, length: 6000))
    XCTAssertEqual(schema["home_recap_2022_binary__segdense_vals"]?.length, 512)
    XCTAssertEqual(schema["home_recap_2022_binary__segdense_vals"]?.dtype, .int64List)
    XCTAssertEqual(schema["home_recap_2022_discrete__segdense_vals"]?.length, 320)
    XCTAssertEqual(schema["meta.user_id"]?.length, 1)
    XCTAssertNil(schema["no.such.feature"])
    // The built-in copy of the production shape agrees with the file (order aside).
    let builtIn = try ReferenceRecapData.schema()
    XCTAssertEqual(schema.features.sorted { $0.featureName < $1.featureName }, builtIn.features.sorted { $0.featureName < $1.featureName })
    // And its data config builds against the real file.
    XCTAssertNoThrow(try RecapBatchBuilder(schema: schema, config: ReferenceRecapData.dataConfig()))
  }

  func testSmallSchemaFileRoundTrips() throws {
    let url = try write(#"{"schema": [{"feature_name": "a", "dtype": "float_list", "length": 3}, {"dtype": "int64_list", "feature_name": "b", "length": 1}, {"feature_name": "c", "dtype": "bytes_list", "length": 2}]}"#)
    let s = try SegdenseSchema(contentsOf: url)
    XCTAssertEqual(s.features.map(\.featureName), ["a", "b", "c"])
    XCTAssertEqual(s.features.map(\.dtype), [.floatList, .int64List, .bytesList])
    XCTAssertEqual(s.features.map(\.length), [3, 1, 2])
  }

  func testMalformedJSONNamesTheFile() throws {
    let url = try write(#"{"schema": [{"feature_name": "a", "dtype": "float_list", "length": 3}"#)
    RecapTestSupport.assertDataError([url.path]) { try SegdenseSchema(contentsOf: url) }
  }

  func testMissingKeysNameTheFileAndTheKey() throws {
    let noLength = try write(#"{"schema": [{"feature_name": "a", "dtype": "float_list"}]}"#, "nolength.json")
    RecapTestSupport.assertDataError([noLength.path, "length"]) { try SegdenseSchema(contentsOf: noLength) }
    let noName = try write(#"{"schema": [{"dtype": "float_list", "length": 2}]}"#, "noname.json")
    RecapTestSupport.assertDataError([noName.path, "feature_name"]) { try SegdenseSchema(contentsOf: noName) }
    let noSchema = try write(#"{"features": []}"#, "noschema.json")
    RecapTestSupport.assertDataError([noSchema.path, "schema"]) { try SegdenseSchema(contentsOf: noSchema) }
  }

  func testUnknownDtypeAndWrongTypesNameTheFile() throws {
    let badDtype = try write(#"{"schema": [{"feature_name": "a", "dtype": "string_list", "length": 2}]}"#, "dtype.json")
    RecapTestSupport.assertDataError([badDtype.path, "dtype"]) { try SegdenseSchema(contentsOf: badDtype) }
    let stringLength = try write(#"{"schema": [{"feature_name": "a", "dtype": "float_list", "length": "2"}]}"#, "strlen.json")
    RecapTestSupport.assertDataError([stringLength.path]) { try SegdenseSchema(contentsOf: stringLength) }
  }

  func testDuplicateFeatureNamesTheFileAndTheFeature() throws {
    let url = try write(#"{"schema": [{"feature_name": "dup.x", "dtype": "float_list", "length": 2}, {"feature_name": "dup.x", "dtype": "int64_list", "length": 1}]}"#)
    RecapTestSupport.assertDataError([url.path, "dup.x", "twice"]) { try SegdenseSchema(contentsOf: url) }
  }

  func testNonPositiveLengthNamesTheFileAndTheFeature() throws {
    for length in [0, -3] {
      let url = try write(#"{"schema": [{"feature_name": "ok", "dtype": "float_list", "length": 1}, {"feature_name": "bad.len", "dtype": "int64_list", "length": \#(length)}]}"#, "len\(length).json")
      RecapTestSupport.assertDataError([url.path, "bad.len", "\(length)"]) { try SegdenseSchema(contentsOf: url) }
    }
  }

  func testMissingFileNamesThePath() {
    let url = dir.appendingPathComponent("absent/segdense.json")
    RecapTestSupport.assertDataError([url.path]) { try SegdenseSchema(contentsOf: url) }
  }

  func testInMemorySchemaErrorsNameTheFeature() {
    RecapTestSupport.assertDataError(["f", "twice"]) {
      try SegdenseSchema(features: [.init(featureName: "f", dtype: .floatList, length: 1), .init(featureName: "f", dtype: .floatList, length: 1)])
    }
    RecapTestSupport.assertDataError(["zero", "positive"]) { try SegdenseSchema(features: [.init(featureName: "zero", dtype: .floatList, length: 0)]) }
  }
}
