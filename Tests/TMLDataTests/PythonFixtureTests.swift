import Foundation
import SwiftProtobuf
import TMLTensor
import XCTest
@testable import TMLData

/// TFRecord + tf.Example files written by Python (`tfrecord` pip package; script
/// tools/fixtures/make_tfrecord_fixtures.py) read back with identical values, floats
/// bit-exact, by the TFRecord reader, swift-protobuf, the fast ExampleParser and
/// RecapBatchBuilder.
final class PythonFixtureTests: XCTestCase {
  typealias Support = RecapTestSupport

  /// One example of python_examples.json; nil = the feature is absent from the record.
  struct Expected {
    var floats: [String: [UInt32]?] = [:]
    var ints: [String: [Int64]?] = [:]
    var bytes: [String: [[UInt8]]?] = [:]
    var present: Set<String> = []
  }

  static let floatFeatures = ["cont": 7, "emb": 4]
  static let intFeatures = ["bin": 5, "disc": 3, "label.a": 1, "label.b": 1, "meta.id": 1]

  var plainPath: String { Support.tfrecordFixtures.appendingPathComponent("python_examples.tfrecord").path }
  var gzipPath: String { Support.tfrecordFixtures.appendingPathComponent("python_examples.tfrecord.gz").path }

  func loadExpected() throws -> [Expected] {
    let data = try Data(contentsOf: Support.tfrecordFixtures.appendingPathComponent("python_examples.json"))
    let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let examples = try XCTUnwrap(root["examples"] as? [[String: Any]])
    return try examples.map { ex in
      var e = Expected()
      for (name, value) in ex {
        if value is NSNull {
          if Self.floatFeatures[name] != nil { e.floats[name] = .some(nil) }
          else if Self.intFeatures[name] != nil { e.ints[name] = .some(nil) }
          else { e.bytes[name] = .some(nil) }
          continue
        }
        e.present.insert(name)
        if Self.floatFeatures[name] != nil {
          e.floats[name] = try XCTUnwrap(value as? [NSNumber]).map { try XCTUnwrap(UInt32(exactly: $0.uint64Value)) }
        } else if Self.intFeatures[name] != nil {
          e.ints[name] = try XCTUnwrap(value as? [String]).map { try XCTUnwrap(Int64($0), $0) }
        } else {
          e.bytes[name] = try XCTUnwrap(value as? [String]).map { hex in
            let chars = Array(hex.utf8)
            return try stride(from: 0, to: chars.count, by: 2).map { try XCTUnwrap(UInt8(String(decoding: chars[$0..<($0 + 2)], as: UTF8.self), radix: 16)) }
          }
        }
      }
      return e
    }
  }

  func testPlainAndGzipFilesHoldTheSameTwentyRecords() throws {
    let plain = try Support.readRecords(plainPath)
    let gz = try Support.readRecords(gzipPath)
    XCTAssertEqual(plain.count, 20)
    XCTAssertEqual(plain, gz)
    XCTAssertEqual(try loadExpected().count, plain.count)
    // The fixture exercises the edge cases it claims to.
    let all = try loadExpected()
    let contBits = Set(all.flatMap { ($0.floats["cont"] ?? nil) ?? [] })
    for f: Float in [0.1, -0.0, 1e-30, 3.4e38, .leastNonzeroMagnitude, .greatestFiniteMagnitude] {
      XCTAssertTrue(contBits.contains(f.bitPattern), "fixture lacks \(f)")
    }
    let disc = Set(all.flatMap { ($0.ints["disc"] ?? nil) ?? [] })
    XCTAssertTrue(disc.contains(.min) && disc.contains(.max) && disc.contains(-1))
    XCTAssertTrue(disc.contains { $0 > 1 << 40 })
    XCTAssertTrue(all.contains { $0.floats["emb"] == .some(nil) }, "one example should leave out emb")
  }

  func testSwiftProtobufDecodesPythonValuesBitExactly() throws {
    let expected = try loadExpected()
    for path in [plainPath, gzipPath] {
      for (i, (record, e)) in zip(try Support.readRecords(path), expected).enumerated() {
        let ex = try Tensorflow_Example(serializedBytes: record)
        let features = ex.features.feature
        XCTAssertEqual(Set(features.keys), e.present, "record \(i)")
        for (name, want) in e.floats {
          guard let want else { XCTAssertNil(features[name]); continue }
          guard case .floatList(let list)? = features[name]?.kind else { XCTFail("\(name) of record \(i) is not a float_list"); continue }
          XCTAssertEqual(list.value.map(\.bitPattern), want, "\(path) record \(i) \(name)")
        }
        for (name, want) in e.ints {
          guard let want else { XCTAssertNil(features[name]); continue }
          guard case .int64List(let list)? = features[name]?.kind else { XCTFail("\(name) of record \(i) is not an int64_list"); continue }
          XCTAssertEqual(list.value, want, "\(path) record \(i) \(name)")
        }
        for (name, want) in e.bytes {
          guard let want else { XCTAssertNil(features[name]); continue }
          guard case .bytesList(let list)? = features[name]?.kind else { XCTFail("\(name) of record \(i) is not a bytes_list"); continue }
          XCTAssertEqual(list.value.map { [UInt8]($0) }, want, "\(path) record \(i) \(name)")
        }
      }
    }
  }

  func testExampleParserDecodesPythonValuesBitExactly() throws {
    let expected = try loadExpected()
    let floatNames = Self.floatFeatures.keys.sorted(), intNames = Self.intFeatures.keys.sorted()
    let slots = floatNames.map { ExampleParser.Slot(name: $0, kind: .float, length: Self.floatFeatures[$0]!) }
      + intNames.map { ExampleParser.Slot(name: $0, kind: .int64, length: Self.intFeatures[$0]!) }
    let parser = ExampleParser(slots: slots)
    for path in [plainPath, gzipPath] {
      for (i, (record, e)) in zip(try Support.readRecords(path), expected).enumerated() {
        // Zeroed rows, as the parser asks of its callers (absent features keep them).
        var floatRows = floatNames.map { [Float](repeating: 0, count: Self.floatFeatures[$0]!) }
        var intRows = intNames.map { [Int64](repeating: 0, count: Self.intFeatures[$0]!) }
        let floatPtrs = floatRows.indices.map { j in UnsafeMutablePointer<Float>.allocate(capacity: floatRows[j].count) }
        let intPtrs = intRows.indices.map { j in UnsafeMutablePointer<Int64>.allocate(capacity: intRows[j].count) }
        defer { floatPtrs.forEach { $0.deallocate() }; intPtrs.forEach { $0.deallocate() } }
        for (j, p) in floatPtrs.enumerated() { p.initialize(repeating: 0, count: floatRows[j].count) }
        for (j, p) in intPtrs.enumerated() { p.initialize(repeating: 0, count: intRows[j].count) }
        let dest = ExampleParser.Destination(
          floats: floatPtrs.map { Optional($0) } + intNames.map { _ in nil },
          int64s: floatNames.map { _ in nil } + intPtrs.map { Optional($0) })
        let present = try record.withUnsafeBytes { try parser.parse($0, into: dest) }
        for j in floatRows.indices { floatRows[j] = Array(UnsafeBufferPointer(start: floatPtrs[j], count: floatRows[j].count)) }
        for j in intRows.indices { intRows[j] = Array(UnsafeBufferPointer(start: intPtrs[j], count: intRows[j].count)) }
        for (j, name) in floatNames.enumerated() {
          let want = e.floats[name]!
          XCTAssertEqual(present[j], want != nil, "record \(i) \(name) presence")
          XCTAssertEqual(floatRows[j].map(\.bitPattern), want ?? [UInt32](repeating: 0, count: floatRows[j].count), "\(path) record \(i) \(name)")
        }
        for (j, name) in intNames.enumerated() {
          let want = e.ints[name]!
          XCTAssertEqual(present[floatNames.count + j], want != nil, "record \(i) \(name) presence")
          XCTAssertEqual(intRows[j], want ?? [Int64](repeating: 0, count: intRows[j].count), "\(path) record \(i) \(name)")
        }
      }
    }
  }

  func testRecapBatchFromPythonRecordsMatchesTheValues() throws {
    let schema = try SegdenseSchema(contentsOf: Support.tfrecordFixtures.appendingPathComponent("schema.json"))
    XCTAssertEqual(schema.features.count, 8)
    XCTAssertEqual(schema["name"]?.dtype, .bytesList)
    let config = RecapDataConfig(
      inputs: gzipPath, globalBatchSize: 20,
      segDenseSchema: .init(schemaPath: "schema.json", renamedFeatures: [
        "continuous": "cont", "binary": "bin", "discrete": "disc", "user_embedding": "emb", "meta__id": "meta.id",
      ]),
      tasks: [("label.a", .init(posDownsamplingRate: 0.5, negDownsamplingRate: 0.25)), ("label.b", .init())])
    let builder = try RecapBatchBuilder(schema: schema, config: config)
    let expected = try loadExpected()
    for path in [plainPath, gzipPath] {
      let batch = try builder.build(try Support.rawRecords([path]))
      let n = expected.count
      XCTAssertEqual(batch.size, n)
      XCTAssertEqual(batch.continuous.shape, [n, 7])
      XCTAssertEqual(Support.bits(batch.continuous), expected.flatMap { $0.floats["cont"]!! })
      XCTAssertEqual(batch.binary.shape, [n, 5])
      XCTAssertEqual(batch.binary.scalars, expected.flatMap { $0.ints["bin"]!!.map { Float($0) } })
      XCTAssertEqual(batch.discrete?.shape, [n, 3])
      XCTAssertEqual(batch.discrete?.values, expected.flatMap { $0.ints["disc"]!!.map { Int($0) } })
      XCTAssertEqual(batch.userEmbedding?.shape, [n, 4])
      XCTAssertEqual(batch.userEmbedding.map(Support.bits), expected.flatMap { $0.floats["emb"]! ?? [0, 0, 0, 0] })
      XCTAssertNil(batch.userEngEmbedding)
      XCTAssertNil(batch.authorEmbedding)
      XCTAssertEqual(batch.taskNames, ["label.a", "label.b"])
      let a = expected.map { Float($0.ints["label.a"]!![0]) }, b = expected.map { Float($0.ints["label.b"]!![0]) }
      XCTAssertEqual(batch.labels.shape, [n, 2])
      XCTAssertEqual(batch.labels.scalars, zip(a, b).flatMap { [$0, $1] })
      XCTAssertEqual(batch.weights.scalars, a.flatMap { y -> [Float] in [y == 1 ? 2 : 4, 1] })
      XCTAssertEqual(batch.meta["meta__id"], expected.map { $0.ints["meta.id"]!![0] })
      XCTAssertEqual(Array(batch.meta.keys), ["meta__id"])
    }
  }
}
