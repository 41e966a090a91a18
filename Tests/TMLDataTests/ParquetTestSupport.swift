import Foundation
import XCTest
@testable import TMLData

/// The pyarrow-written fixtures in Tests/Fixtures/parquet and their expected.json
/// (see tools/fixtures/make_parquet_fixtures.py).
enum ParquetFixtures {
  /// Tests/TMLDataTests/ParquetTestSupport.swift → Tests/Fixtures/parquet (symlinks resolved,
  /// so a scratch package that links Tests/TMLDataTests still finds the fixtures).
  static let directory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/parquet")

  static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  struct Column {
    let name: String
    let type: String
    let optional: Bool
    let values: [ParquetValue]
  }

  struct File {
    let name: String
    let codec: String
    let dictionary: Bool
    let dataPageVersion: String
    let rowGroups: Int
    let nestedColumns: [String]
    let rows: Int
    let columns: [Column]
  }

  struct Malformed: Error, CustomStringConvertible { let description: String }

  /// Every file listed in expected.json, sorted by name.
  static func load() throws -> [File] {
    let data = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
    guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let datasets = root["datasets"] as? [String: Any], let files = root["files"] as? [String: Any]
    else { throw Malformed(description: "expected.json: missing datasets/files") }
    var out: [File] = []
    for (name, anyFile) in files.sorted(by: { $0.key < $1.key }) {
      guard let f = anyFile as? [String: Any], let datasetName = f["dataset"] as? String,
        let dataset = datasets[datasetName] as? [String: Any], let rows = dataset["rows"] as? Int,
        let columns = dataset["columns"] as? [String: Any]
      else { throw Malformed(description: "expected.json: bad entry for \(name)") }
      var cols: [Column] = []
      for (colName, anyCol) in columns.sorted(by: { $0.key < $1.key }) {
        guard let c = anyCol as? [String: Any], let type = c["type"] as? String,
          let optional = c["optional"] as? Bool, let values = c["values"] as? [Any]
        else { throw Malformed(description: "expected.json: bad column \(colName) in \(datasetName)") }
        cols.append(Column(name: colName, type: type, optional: optional, values: try values.map { try value($0, type) }))
      }
      out.append(File(
        name: name, codec: f["codec"] as? String ?? "", dictionary: f["dictionary"] as? Bool ?? false,
        dataPageVersion: f["data_page_version"] as? String ?? "", rowGroups: f["row_groups"] as? Int ?? -1,
        nestedColumns: f["nested_columns"] as? [String] ?? [], rows: rows, columns: cols))
    }
    return out
  }

  /// One expected.json value in its exact encoding (see the generator's docstring).
  static func value(_ v: Any, _ type: String) throws -> ParquetValue {
    if v is NSNull { return .null }
    switch type {
    case "INT32":
      if let n = v as? NSNumber, let i = Int32(exactly: n.int64Value) { return .int32(i) }
    case "INT64":
      if let s = v as? String, let i = Int64(s) { return .int64(i) }
    case "FLOAT":
      if let n = v as? NSNumber, let bits = UInt32(exactly: n.int64Value) { return .float(Float(bitPattern: bits)) }
    case "DOUBLE":
      if let s = v as? String, let bits = UInt64(s, radix: 16) { return .double(Double(bitPattern: bits)) }
    case "BYTE_ARRAY":
      if let s = v as? String { return .bytes(Array(s.utf8)) }
    case "BOOLEAN":
      if let b = v as? Bool { return .boolean(b) }
    default: break
    }
    throw Malformed(description: "expected.json: cannot read \(v) as \(type)")
  }

  static func physicalType(_ name: String) -> ParquetPhysicalType? {
    switch name {
    case "INT32": return .int32
    case "INT64": return .int64
    case "FLOAT": return .float
    case "DOUBLE": return .double
    case "BYTE_ARRAY": return .byteArray
    case "BOOLEAN": return .boolean
    default: return nil
    }
  }
}

/// Asserts `body` throws a `DataError` whose message contains every string in `parts`.
func assertParquetError<T>(
  _ body: @autoclosure () throws -> T, contains parts: [String], file: StaticString = #filePath, line: UInt = #line
) {
  do {
    _ = try body()
    XCTFail("expected an error containing \(parts)", file: file, line: line)
  } catch let e as DataError {
    for p in parts where !e.message.contains(p) {
      XCTFail("error does not mention '\(p)': \(e.message)", file: file, line: line)
    }
  } catch {
    XCTFail("expected DataError, got \(type(of: error)): \(error)", file: file, line: line)
  }
}
