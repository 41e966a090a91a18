import Foundation
import SwiftProtobuf
import TMLTensor
import XCTest
@testable import TMLData

/// Shared helpers for the TFRecord / tf.Example / Recap / pipeline tests.
enum RecapTestSupport {
  /// The repository root (this file is Tests/TMLDataTests/RecapTestSupport.swift).
  static let repoRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static let tfrecordFixtures = repoRoot.appendingPathComponent("Tests/Fixtures/tfrecord")

  /// A fresh temporary directory; remove it in tearDown.
  static func makeTemporaryDirectory(_ tag: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tml-\(tag)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
  }

  /// All records of a TFRecord file.
  static func readRecords(_ path: String) throws -> [[UInt8]] {
    let reader = try TFRecordReader(path: path)
    var out: [[UInt8]] = []
    while let r = try reader.next() { out.append(r) }
    return out
  }

  static func rawRecords(_ paths: [String]) throws -> [RawRecord] {
    try paths.flatMap { path in try readRecords(path).enumerated().map { RawRecord(bytes: $1, file: path, index: $0) } }
  }

  /// Serializes an Example with sorted keys.
  static func serialize(_ features: [String: Tensorflow_Feature]) throws -> [UInt8] {
    var options = BinaryEncodingOptions()
    options.useDeterministicOrdering = true
    return try Tensorflow_Example(features: features).serializedBytes(options: options)
  }

  static func record(_ features: [String: Tensorflow_Feature], file: String = "mem.tfrecord", index: Int = 0) throws -> RawRecord {
    RawRecord(bytes: try serialize(features), file: file, index: index)
  }

  static func writeTFRecord(_ records: [[UInt8]], to path: String, compressed: Bool = false) throws {
    let w = try TFRecordWriter(path: path, compressed: compressed)
    for r in records { try w.write(r) }
    try w.close()
  }

  // MARK: - A small segdense schema and data config

  static let labelNames = ["is_liked", "is_replied", "is_shared"]

  /// continuous 32, binary 8, discrete 4, three 6-d embeddings, 3 labels, 2 meta ids.
  static func smallSchema(continuous: Int = 32, binary: Int = 8, extra: [SegdenseSchema.Feature] = []) throws -> SegdenseSchema {
    var f: [SegdenseSchema.Feature] = [
      .init(featureName: "cont_vals", dtype: .floatList, length: continuous),
      .init(featureName: "bin_vals", dtype: .int64List, length: binary),
      .init(featureName: "disc_vals", dtype: .int64List, length: 4),
      .init(featureName: "user_emb", dtype: .floatList, length: 6),
      .init(featureName: "user_eng_emb", dtype: .floatList, length: 6),
      .init(featureName: "author_emb", dtype: .floatList, length: 6),
      .init(featureName: "meta.user_id", dtype: .int64List, length: 1),
      .init(featureName: "meta.tweet_id", dtype: .int64List, length: 1),
    ]
    for l in labelNames { f.append(.init(featureName: l, dtype: .int64List, length: 1)) }
    return try SegdenseSchema(features: f + extra)
  }

  static let smallRenamed: [String: String] = [
    "continuous": "cont_vals", "binary": "bin_vals", "discrete": "disc_vals",
    "user_embedding": "user_emb", "user_eng_embedding": "user_eng_emb", "author_embedding": "author_emb",
    "meta__user_id": "meta.user_id", "meta__tweet_id": "meta.tweet_id",
  ]

  static func smallConfig(
    tasks: [(name: String, data: RecapDataConfig.TaskData)]? = nil, renamed: [String: String]? = nil,
    features: [String] = [], preprocess: PreprocessConfig? = nil
  ) -> RecapDataConfig {
    RecapDataConfig(
      inputs: "", globalBatchSize: 8,
      segDenseSchema: .init(schemaPath: "<test>", features: features, renamedFeatures: renamed ?? smallRenamed),
      tasks: tasks ?? labelNames.map { ($0, RecapDataConfig.TaskData()) }, preprocess: preprocess)
  }

  /// Features of one hand-made example of the small schema; `row` makes the values distinct.
  static func smallExample(row: Int, continuous: Int = 32, binary: Int = 8, labels: [Int64] = [0, 0, 0]) -> [String: Tensorflow_Feature] {
    var f: [String: Tensorflow_Feature] = [
      "cont_vals": .floats((0..<continuous).map { Float(row * 1000 + $0) }),
      "bin_vals": .int64s((0..<binary).map { Int64(($0 + row) % 2) }),
      "disc_vals": .int64s((0..<4).map { Int64(row * 10 + $0) }),
      "user_emb": .floats((0..<6).map { Float(row) + Float($0) / 8 }),
      "user_eng_emb": .floats((0..<6).map { -Float(row) - Float($0) / 8 }),
      "author_emb": .floats((0..<6).map { Float(row * $0) }),
      "meta.user_id": .int64s([Int64(row) + (1 << 40)]),
      "meta.tweet_id": .int64s([Int64(row)]),
    ]
    for (l, y) in zip(labelNames, labels) { f[l] = .int64s([y]) }
    return f
  }

  // MARK: - Assertions

  /// Asserts that `body` throws a `DataError` whose message contains every one of `parts`.
  static func assertDataError<T>(
    _ parts: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
  ) {
    do {
      _ = try body()
      XCTFail("expected a DataError containing \(parts)", file: file, line: line)
    } catch let e as DataError {
      for p in parts where !e.message.contains(p) {
        XCTFail("error \"\(e.message)\" does not mention \"\(p)\"", file: file, line: line)
      }
    } catch {
      XCTFail("expected a DataError, got \(type(of: error)): \(error)", file: file, line: line)
    }
  }

  static func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }
  static func row(_ t: Tensor, _ r: Int) -> [Float] { let w = t.shape[1]; return Array(t.scalars[(r * w)..<(r * w + w)]) }
}
