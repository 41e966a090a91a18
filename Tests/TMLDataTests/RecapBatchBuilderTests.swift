import Foundation
import SwiftProtobuf
import TMLTensor
import XCTest
@testable import TMLData

final class RecapBatchBuilderTests: XCTestCase {
  typealias S = RecapTestSupport
  var dir: URL!

  override func setUpWithError() throws { dir = try S.makeTemporaryDirectory("recap-builder") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  let rates: [(name: String, data: RecapDataConfig.TaskData)] = [
    ("is_liked", .init(posDownsamplingRate: 0.5, negDownsamplingRate: 0.1)),
    ("is_replied", .init()),
    ("is_shared", .init(posDownsamplingRate: 0.25, negDownsamplingRate: 0.8)),
  ]

  func testBatchMatchesSwiftProtobufDecodingOfRandomData() throws {
    let schema = try S.smallSchema()
    let config = S.smallConfig(tasks: rates)
    let paths = try RandomRecapData(schema: schema, config: config, seed: 7, signalFeatures: 8).write(examples: 60, files: 2, to: dir)
    XCTAssertEqual(paths.count, 2)
    let records = try S.rawRecords(paths)
    XCTAssertEqual(records.count, 60)
    let batch = try RecapBatchBuilder(schema: schema, config: config).build(records)
    XCTAssertEqual(batch.size, 60)
    XCTAssertEqual(batch.continuous.shape, [60, 32])
    XCTAssertEqual(batch.binary.shape, [60, 8])
    XCTAssertEqual(batch.discrete?.shape, [60, 4])
    XCTAssertEqual(batch.labels.shape, [60, 3])
    XCTAssertEqual(batch.weights.shape, [60, 3])
    XCTAssertEqual(batch.taskNames, S.labelNames)
    XCTAssertEqual(Set(batch.meta.keys), ["meta__user_id", "meta__tweet_id"])
    for (r, record) in records.enumerated() {
      let f = try Tensorflow_Example(serializedBytes: record.bytes).features.feature
      XCTAssertEqual(S.row(batch.continuous, r).map(\.bitPattern), f["cont_vals"]!.floatList.value.map(\.bitPattern), "row \(r)")
      XCTAssertEqual(S.row(batch.binary, r), f["bin_vals"]!.int64List.value.map { Float($0) }, "row \(r)")
      XCTAssertEqual(Array(batch.discrete!.values[(r * 4)..<(r * 4 + 4)]), f["disc_vals"]!.int64List.value.map { Int($0) }, "row \(r)")
      XCTAssertEqual(S.row(batch.userEmbedding!, r).map(\.bitPattern), f["user_emb"]!.floatList.value.map(\.bitPattern))
      XCTAssertEqual(S.row(batch.userEngEmbedding!, r).map(\.bitPattern), f["user_eng_emb"]!.floatList.value.map(\.bitPattern))
      XCTAssertEqual(S.row(batch.authorEmbedding!, r).map(\.bitPattern), f["author_emb"]!.floatList.value.map(\.bitPattern))
      XCTAssertEqual(batch.meta["meta__user_id"]?[r], f["meta.user_id"]!.int64List.value.first)
      XCTAssertEqual(batch.meta["meta__tweet_id"]?[r], f["meta.tweet_id"]!.int64List.value.first)
      for (t, task) in rates.enumerated() {
        let y = Float(f[task.name]!.int64List.value[0])
        XCTAssertEqual(batch.labels[r, t], y)
        XCTAssertEqual(batch.weights[r, t], Float(Double(y) / task.data.posDownsamplingRate + Double(1 - y) / task.data.negDownsamplingRate), "row \(r) task \(task.name)")
      }
    }
    // Random data has both classes, so both weight branches were checked.
    XCTAssertTrue(batch.labels.scalars.contains(1) && batch.labels.scalars.contains(0))
    XCTAssertEqual(Set(batch.weights.scalars), [2, 10, 1, 4, 1.25])
  }

  func testMissingFeaturesReadAsZeros() throws {
    let schema = try S.smallSchema()
    let builder = try RecapBatchBuilder(schema: schema, config: S.smallConfig(tasks: rates))
    var sparse = S.smallExample(row: 3, labels: [1, 1, 1])
    for name in ["bin_vals", "disc_vals", "user_emb", "author_emb", "meta.tweet_id", "is_liked", "is_shared"] { sparse[name] = nil }
    let batch = try builder.build([try S.record(S.smallExample(row: 1, labels: [1, 0, 1])), try S.record(sparse, index: 1)])
    XCTAssertEqual(batch.size, 2)
    XCTAssertEqual(S.row(batch.continuous, 1), (0..<32).map { Float(3000 + $0) })
    XCTAssertEqual(S.row(batch.binary, 1), [Float](repeating: 0, count: 8))
    XCTAssertEqual(Array(batch.discrete!.values[4...]), [0, 0, 0, 0])
    XCTAssertEqual(S.row(batch.userEmbedding!, 1).map(\.bitPattern), [UInt32](repeating: 0, count: 6))
    XCTAssertEqual(S.row(batch.authorEmbedding!, 1), [Float](repeating: 0, count: 6))
    XCTAssertEqual(S.row(batch.userEngEmbedding!, 1), (0..<6).map { -3 - Float($0) / 8 })
    XCTAssertEqual(batch.meta["meta__tweet_id"], [1, 0])
    XCTAssertEqual(batch.meta["meta__user_id"], [1 + (1 << 40), 3 + (1 << 40)])
    // Absent labels are 0 (weight 1/neg); the present one is 1.
    XCTAssertEqual(S.row(batch.labels, 1), [0, 1, 0])
    XCTAssertEqual(S.row(batch.weights, 1), [10, 1, 1.25])
    XCTAssertEqual(S.row(batch.labels, 0), [1, 0, 1])
    XCTAssertEqual(S.row(batch.weights, 0), [2, 1, 4])
  }

  func testAnEmptyExampleIsAllZeros() throws {
    let builder = try RecapBatchBuilder(schema: try S.smallSchema(), config: S.smallConfig())
    let batch = try builder.build([RawRecord(bytes: [], file: "f", index: 0)])
    XCTAssertEqual(batch.continuous.scalars, [Float](repeating: 0, count: 32))
    XCTAssertEqual(batch.labels.scalars, [0, 0, 0])
    XCTAssertEqual(batch.weights.scalars, [1, 1, 1])
  }

  func testConfigErrorsNameTheFeature() throws {
    let schema = try S.smallSchema()
    func build(_ config: RecapDataConfig, _ s: SegdenseSchema? = nil) throws -> RecapBatchBuilder {
      try RecapBatchBuilder(schema: s ?? schema, config: config)
    }
    var renamed = S.smallRenamed
    renamed["user_embeddings_typo"] = "user_emb"
    S.assertDataError(["user_embeddings_typo"]) { try build(S.smallConfig(renamed: renamed)) }

    renamed = S.smallRenamed
    renamed["author_embedding"] = "no.such.feature"
    S.assertDataError(["no.such.feature", "author_embedding"]) { try build(S.smallConfig(renamed: renamed)) }

    renamed = S.smallRenamed
    renamed["continuous"] = nil
    S.assertDataError(["continuous"]) { try build(S.smallConfig(renamed: renamed)) }

    S.assertDataError(["missing_label"]) { try build(S.smallConfig(tasks: [("missing_label", .init())])) }
    S.assertDataError(["extra.feature"]) { try build(S.smallConfig(features: ["extra.feature"])) }

    let wideLabel = try S.smallSchema(extra: [.init(featureName: "wide_label", dtype: .int64List, length: 2)])
    S.assertDataError(["wide_label", "length"]) { try build(S.smallConfig(tasks: [("wide_label", .init())]), wideLabel) }

    // Wrong dtypes: continuous must be a float_list, discrete an int64_list.
    renamed = S.smallRenamed
    renamed["continuous"] = "disc_vals"
    S.assertDataError(["disc_vals", "float_list", "int64_list"]) { try build(S.smallConfig(renamed: renamed)) }
    renamed = S.smallRenamed
    renamed["discrete"] = "user_emb"
    S.assertDataError(["user_emb", "int64_list"]) { try build(S.smallConfig(renamed: renamed)) }
    let withBytes = try S.smallSchema(extra: [.init(featureName: "blob", dtype: .bytesList, length: 1)])
    renamed = S.smallRenamed
    renamed["meta__blob"] = "blob"
    S.assertDataError(["blob"]) { try build(S.smallConfig(renamed: renamed), withBytes) }
  }

  func testWrongLengthRecordNamesFileRecordAndFeatureAndCanBeSkipped() throws {
    let builder = try RecapBatchBuilder(schema: try S.smallSchema(), config: S.smallConfig())
    var bad = S.smallExample(row: 1)
    bad["disc_vals"] = .int64s([1, 2, 3])
    let records = [
      try S.record(S.smallExample(row: 0), file: "data/part-7.tfrecord.gz", index: 40),
      try S.record(bad, file: "data/part-7.tfrecord.gz", index: 41),
      try S.record(S.smallExample(row: 2), file: "data/part-7.tfrecord.gz", index: 42),
    ]
    S.assertDataError(["data/part-7.tfrecord.gz", "record 41", "disc_vals"]) { try builder.build(records) }
    let (batch, skipped) = try builder.build(records, skippingBadRecords: true)
    XCTAssertEqual(batch.size, 2)
    XCTAssertEqual(batch.meta["meta__tweet_id"], [0, 2])
    XCTAssertEqual(S.row(batch.continuous, 1), (0..<32).map { Float(2000 + $0) })
    XCTAssertEqual(skipped.count, 1)
    XCTAssertEqual(skipped.first?.file, "data/part-7.tfrecord.gz")
    XCTAssertEqual(skipped.first?.index, 41)
    XCTAssertTrue(skipped[0].message.contains("record 41") && skipped[0].message.contains("disc_vals"), skipped[0].message)
  }

  func testAllRecordsBadWhileSkippingGivesAnEmptyBatch() throws {
    let builder = try RecapBatchBuilder(schema: try S.smallSchema(), config: S.smallConfig())
    var bad = S.smallExample(row: 0)
    bad["cont_vals"] = .floats([1])
    let (batch, skipped) = try builder.build([try S.record(bad, index: 0), try S.record(bad, index: 1)], skippingBadRecords: true)
    XCTAssertEqual(batch.size, 0)
    XCTAssertEqual(batch.continuous.shape, [0, 32])
    XCTAssertEqual(batch.labels.shape, [0, 3])
    XCTAssertEqual(batch.meta["meta__tweet_id"], [])
    XCTAssertEqual(skipped.count, 2)
  }

  func testWrongValueTypeInARecordNamesTheFeature() throws {
    let builder = try RecapBatchBuilder(schema: try S.smallSchema(), config: S.smallConfig())
    var bad = S.smallExample(row: 0)
    bad["bin_vals"] = .floats([Float](repeating: 1, count: 8))
    S.assertDataError(["f.tfrecord", "record 3", "bin_vals", "float_list"]) { try builder.build([try S.record(bad, file: "f.tfrecord", index: 3)]) }
    let garbage = RawRecord(bytes: [0x0A, 0x7F, 0x01], file: "g.tfrecord", index: 9)
    S.assertDataError(["g.tfrecord", "record 9"]) { try builder.build([garbage]) }
  }

  func testLabelOtherThanZeroOrOneIsAnError() throws {
    let builder = try RecapBatchBuilder(schema: try S.smallSchema(), config: S.smallConfig())
    let records = [
      try S.record(S.smallExample(row: 0, labels: [1, 0, 0]), file: "x.tfrecord", index: 0),
      try S.record(S.smallExample(row: 1, labels: [0, 2, 0]), file: "x.tfrecord", index: 1),
    ]
    S.assertDataError(["x.tfrecord", "record 1", "is_replied", "0 or 1"]) { try builder.build(records) }
    let (batch, skipped) = try builder.build(records, skippingBadRecords: true)
    XCTAssertEqual(batch.size, 1)
    XCTAssertEqual(batch.labels.scalars, [1, 0, 0])
    XCTAssertEqual(skipped.count, 1)
  }

  func testLabelsAreMatchedByNameNotPosition() throws {
    let schema = try S.smallSchema()
    let tasks: [(name: String, data: RecapDataConfig.TaskData)] = [("is_shared", .init()), ("is_liked", .init(posDownsamplingRate: 0.5)), ("is_replied", .init())]
    let batch = try RecapBatchBuilder(schema: schema, config: S.smallConfig(tasks: tasks))
      .build([try S.record(S.smallExample(row: 0, labels: [1, 0, 0])), try S.record(S.smallExample(row: 1, labels: [0, 0, 1]))])
    XCTAssertEqual(batch.taskNames, ["is_shared", "is_liked", "is_replied"])
    XCTAssertEqual(try batch.labelColumn("is_liked"), 1)
    XCTAssertEqual(try batch.labelColumn("is_shared"), 0)
    XCTAssertEqual(S.row(batch.labels, 0), [0, 1, 0])
    XCTAssertEqual(S.row(batch.labels, 1), [1, 0, 0])
    XCTAssertEqual(S.row(batch.weights, 0), [1, 2, 1])
    S.assertDataError(["is_bookmarked", "is_shared, is_liked, is_replied"]) { try batch.labelColumn("is_bookmarked") }
    // A subset of the schema's labels is fine.
    let one = try RecapBatchBuilder(schema: schema, config: S.smallConfig(tasks: [("is_replied", .init())]))
      .build([try S.record(S.smallExample(row: 0, labels: [1, 1, 0]))])
    XCTAssertEqual(one.labels.shape, [1, 1])
    XCTAssertEqual(one.labels.scalars, [1])
  }

  func testExtraSchemaFeaturesLandInExtra() throws {
    let schema = try S.smallSchema(extra: [
      .init(featureName: "ctx.score", dtype: .floatList, length: 2), .init(featureName: "ctx.ts", dtype: .int64List, length: 1),
    ])
    let builder = try RecapBatchBuilder(schema: schema, config: S.smallConfig(features: ["ctx.score", "ctx.ts"]))
    var a = S.smallExample(row: 0), b = S.smallExample(row: 1)
    a["ctx.score"] = .floats([0.5, -1.5])
    a["ctx.ts"] = .int64s([1_700_000_000_123])
    b["ctx.ts"] = .int64s([Int64.max])
    let batch = try builder.build([try S.record(a), try S.record(b)])
    XCTAssertEqual(batch.extra["ctx.score"]?.shape, [2, 2])
    XCTAssertEqual(batch.extra["ctx.score"]?.scalars, [0.5, -1.5, 0, 0])
    XCTAssertEqual(batch.extraInt64["ctx.ts"], [1_700_000_000_123, .max])
  }

  func testBinaryStoredAsFloatListIsAccepted() throws {
    var features = try S.smallSchema().features
    features[1] = .init(featureName: "bin_vals", dtype: .floatList, length: 8)
    let builder = try RecapBatchBuilder(schema: try SegdenseSchema(features: features), config: S.smallConfig())
    var ex = S.smallExample(row: 0)
    ex["bin_vals"] = .floats([1, 0, 1, 1, 0, 0, 0, 1])
    XCTAssertEqual(try builder.build([try S.record(ex)]).binary.scalars, [1, 0, 1, 1, 0, 0, 0, 1])
  }


  func testAFeatureListedInFeaturesAndRenamedIsReadForBoth() throws {
    let builder = try RecapBatchBuilder(schema: try S.smallSchema(), config: S.smallConfig(features: ["cont_vals", "is_liked"]))
    let batch = try builder.build([try S.record(S.smallExample(row: 1, labels: [1, 0, 1]))])
    XCTAssertEqual(batch.continuous.scalars, (0..<32).map { Float(1000 + $0) })
    XCTAssertEqual(batch.labels.scalars, [1, 0, 1])
  }

  func testTwoInputsRenamedToTheSameFeatureBothGetTheValues() throws {
    var renamed = S.smallRenamed
    renamed["author_embedding"] = "user_emb"
    let batch = try RecapBatchBuilder(schema: try S.smallSchema(), config: S.smallConfig(renamed: renamed)).build([try S.record(S.smallExample(row: 1))])
    let expected = (0..<6).map { 1 + Float($0) / 8 }
    XCTAssertEqual(batch.userEmbedding?.scalars, expected)
    XCTAssertEqual(batch.authorEmbedding?.scalars, expected)
  }
}
