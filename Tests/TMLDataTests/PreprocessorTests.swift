import Foundation
import SwiftProtobuf
import TMLTensor
import XCTest
@testable import TMLData

final class PreprocessorTests: XCTestCase {
  typealias S = RecapTestSupport
  var dir: URL!

  override func setUpWithError() throws { dir = try S.makeTemporaryDirectory("preprocess") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  // MARK: - .npy files written byte by byte

  /// A NumPy .npy file: magic, version, little-endian header length, the dict header
  /// padded with spaces to a multiple of 64 (ending in \n), then `body`.
  static func npy(descr: String, shape: [Int], body: [UInt8], version: UInt8 = 1, fortran: Bool = false) -> Data {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
    let prefix = version == 1 ? 10 : 12
    while (prefix + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    let n = header.utf8.count
    out += version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
    return Data(out + Array(header.utf8) + body)
  }

  static func f4(_ v: [Float]) -> [UInt8] { v.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } } }
  static func i8(_ v: [Int64]) -> [UInt8] { v.flatMap { x in withUnsafeBytes(of: x.littleEndian) { Array($0) } } }
  static func b1(_ v: [Bool]) -> [UInt8] { v.map { $0 ? 1 : 0 } }

  func writeNpy(_ name: String, _ data: Data) throws -> URL {
    let url = dir.appendingPathComponent(name)
    try data.write(to: url)
    return url
  }

  func testNpyArrayParsesFloatBoolAndInt64Arrays() throws {
    let f = try NpyArray(contentsOf: try writeNpy("f.npy", Self.npy(descr: "<f4", shape: [5], body: Self.f4([0, 0.5, -0.0, 3, -1e-30]))))
    XCTAssertEqual(f.descr, "<f4")
    XCTAssertEqual(f.shape, [5])
    XCTAssertEqual(f.values, [0, 0.5, -0.0, 3, Double(Float(-1e-30))])
    XCTAssertEqual(f.nonzeroIndices, [1, 3, 4])  // -0.0 is zero, as in NumPy
    let b = try NpyArray(contentsOf: try writeNpy("b.npy", Self.npy(descr: "|b1", shape: [6], body: Self.b1([true, false, false, true, true, false]))))
    XCTAssertEqual(b.descr, "|b1")
    XCTAssertEqual(b.values, [1, 0, 0, 1, 1, 0])
    XCTAssertEqual(b.nonzeroIndices, [0, 3, 4])
    let i = try NpyArray(contentsOf: try writeNpy("i.npy", Self.npy(descr: "<i8", shape: [4], body: Self.i8([0, -7, 1 << 40, 0]))))
    XCTAssertEqual(i.values, [0, -7, Double(1 << 40), 0])
    XCTAssertEqual(i.nonzeroIndices, [1, 2])
    let v2 = try NpyArray(data: Self.npy(descr: "<i8", shape: [2, 3], body: Self.i8([1, 2, 3, 4, 5, 6]), version: 2), source: "v2.npy")
    XCTAssertEqual(v2.shape, [2, 3])
    XCTAssertEqual(v2.values, [1, 2, 3, 4, 5, 6])
    let empty = try NpyArray(data: Self.npy(descr: "|b1", shape: [0], body: []), source: "e.npy")
    XCTAssertEqual(empty.values, [])
  }

  func testBadNpyFilesAreErrorsNamingTheSource() throws {
    S.assertDataError(["m.npy", "magic"]) { try NpyArray(data: Data("NOTNUMPY..".utf8), source: "m.npy") }
    S.assertDataError(["big.npy", "big-endian"]) { try NpyArray(data: Self.npy(descr: ">f4", shape: [1], body: [0, 0, 0, 0]), source: "big.npy") }
    S.assertDataError(["fo.npy", "fortran"]) { try NpyArray(data: Self.npy(descr: "<f4", shape: [1], body: Self.f4([1]), fortran: true), source: "fo.npy") }
    S.assertDataError(["short.npy", "data section"]) { try NpyArray(data: Self.npy(descr: "<i8", shape: [3], body: Self.i8([1, 2])), source: "short.npy") }
    S.assertDataError(["u.npy", "<U3"]) { try NpyArray(data: Self.npy(descr: "<U3", shape: [1], body: [UInt8](repeating: 0, count: 12)), source: "u.npy") }
    S.assertDataError(["ver.npy", "version"]) { try NpyArray(data: Self.npy(descr: "<f4", shape: [1], body: Self.f4([1]), version: 9), source: "ver.npy") }
    var truncated = Self.npy(descr: "<f4", shape: [1], body: [])
    truncated = truncated.prefix(30)
    S.assertDataError(["t.npy"]) { try NpyArray(data: truncated, source: "t.npy") }
    let missing = dir.appendingPathComponent("nope.npy")
    S.assertDataError([missing.path]) { try NpyArray(contentsOf: missing) }
  }

  // MARK: - Batches through RecapBatchBuilder with a preprocess config

  /// Schema: continuous 10, binary 6, plus labels/meta/embeddings of the small schema.
  func build(_ preprocess: PreprocessConfig, rows: Int = 3, labels: [[Int64]]? = nil, features: [String] = [],
             schemaExtra: [SegdenseSchema.Feature] = [], edit: (Int, inout [String: Tensorflow_Feature]) -> Void = { _, _ in }) throws -> RecapBatch {
    let schema = try S.smallSchema(continuous: 10, binary: 6, extra: schemaExtra)
    let builder = try RecapBatchBuilder(schema: schema, config: S.smallConfig(features: features, preprocess: preprocess), baseDirectory: dir)
    let records = try (0..<rows).map { r -> RawRecord in
      var ex = S.smallExample(row: r, continuous: 10, binary: 6, labels: labels?[r] ?? [0, 0, 0])
      ex["bin_vals"] = .int64s((0..<6).map { Int64((r >> ($0 % 3)) & 1) })
      edit(r, &ex)
      return try S.record(ex, index: r)
    }
    return try builder.build(records)
  }

  func testTruncationAlone() throws {
    let b = try build(PreprocessConfig(truncateAndSlice: .init(continuousFeatureTruncation: 4, binaryFeatureTruncation: 2)))
    XCTAssertEqual(b.continuous.shape, [3, 4])
    XCTAssertEqual(S.row(b.continuous, 2), [2000, 2001, 2002, 2003])
    XCTAssertEqual(b.binary.shape, [3, 2])
    // A truncation at or beyond the width keeps everything.
    let same = try build(PreprocessConfig(truncateAndSlice: .init(continuousFeatureTruncation: 10, binaryFeatureTruncation: 99)))
    XCTAssertEqual(same.continuous.shape, [3, 10])
    XCTAssertEqual(same.binary.shape, [3, 6])
  }

  func testTruncationThenNpyMasksSelectTheNonzeroColumns() throws {
    // Continuous: truncate 10 → 8, then a float mask keeps columns 1, 3, 7.
    _ = try writeNpy("cont_mask.npy", Self.npy(descr: "<f4", shape: [8], body: Self.f4([0, 0.5, 0, -2, 0, 0, 0, 1])))
    // Binary: truncate 6 → 4, then a bool mask (absolute path) keeps columns 0 and 2.
    let binMask = try writeNpy("bin_mask.npy", Self.npy(descr: "|b1", shape: [4], body: Self.b1([true, false, true, false])))
    let b = try build(PreprocessConfig(truncateAndSlice: .init(
      continuousFeatureTruncation: 8, binaryFeatureTruncation: 4, continuousFeatureMaskPath: "cont_mask.npy", binaryFeatureMaskPath: binMask.path)))
    XCTAssertEqual(b.continuous.shape, [3, 3])
    for r in 0..<3 {
      XCTAssertEqual(S.row(b.continuous, r), [1, 3, 7].map { Float(r * 1000 + $0) })
      let bin = (0..<6).map { Float((r >> ($0 % 3)) & 1) }
      XCTAssertEqual(S.row(b.binary, r), [bin[0], bin[2]])
    }
    // An int64 mask without truncation.
    _ = try writeNpy("int_mask.npy", Self.npy(descr: "<i8", shape: [10], body: Self.i8([0, 0, 0, 0, 0, 0, 0, 0, 0, 5])))
    let c = try build(PreprocessConfig(truncateAndSlice: .init(continuousFeatureMaskPath: "int_mask.npy")))
    XCTAssertEqual(c.continuous.scalars, [9, 1009, 2009])
    XCTAssertEqual(c.binary.shape, [3, 6])
  }

  func testMaskProblemsAreErrors() throws {
    _ = try writeNpy("wide.npy", Self.npy(descr: "|b1", shape: [10], body: Self.b1([Bool](repeating: false, count: 9) + [true])))
    S.assertDataError(["truncate_and_slice"]) {
      try build(PreprocessConfig(truncateAndSlice: .init(continuousFeatureTruncation: 8, continuousFeatureMaskPath: "wide.npy")))
    }
    S.assertDataError([dir.appendingPathComponent("missing.npy").path]) {
      try build(PreprocessConfig(truncateAndSlice: .init(binaryFeatureMaskPath: "missing.npy")))
    }
  }

  func testDowncastRoundsLikeBfloat16AndFloat16() throws {
    let values: [Float] = [
      .pi, 1 + 0x1p-8, 1 + 3 * 0x1p-8, -0.0, 3.4e38, 0.1,  // bfloat16 cases
      65519, 65520, 0x1p-25, 3 * 0x1p-25,  // float16 cases
    ]
    let bf16: [Float] = [3.140625, 1, 1.015625, -0.0, .infinity, 0.10009765625, 65536, 65536, 0x1p-25, 3 * 0x1p-25]
    let f16: [Float] = [3.140625, 1 + 0x1p-8, 1 + 3 * 0x1p-8, -0.0, .infinity, 0.0999755859375, 65504, .infinity, 0, 2 * 0x1p-24]
    let b = try build(PreprocessConfig(downcast: ["continuous": .bfloat16, "user_embedding": .float16, "binary": .bool, "author_embedding": .float32]), rows: 1) { _, ex in
      ex["cont_vals"] = .floats(values)
      ex["user_emb"] = .floats(Array(values[4...]))
      ex["bin_vals"] = .int64s([0, 1, 1, 0, 0, 1])
      ex["author_emb"] = .floats([0.1, 0.2, 0.3, 0x1p-133, 7, 8])
    }
    XCTAssertEqual(b.continuous.scalars.map(\.bitPattern), bf16.map(\.bitPattern), "\(b.continuous.scalars)")
    XCTAssertEqual(b.userEmbedding!.scalars.map(\.bitPattern), Array(f16[4...]).map(\.bitPattern), "\(b.userEmbedding!.scalars)")
    XCTAssertEqual(b.binary.scalars, [0, 1, 1, 0, 0, 1])
    XCTAssertEqual(b.authorEmbedding!.scalars, [0.1, 0.2, 0.3, 0x1p-133, 7, 8])  // float32: unchanged
    // float16 of the first values too (another tensor, same rounding).
    let c = try build(PreprocessConfig(downcast: ["continuous": .float16]), rows: 1) { _, ex in ex["cont_vals"] = .floats(values) }
    XCTAssertEqual(c.continuous.scalars.map(\.bitPattern), f16.map(\.bitPattern), "\(c.continuous.scalars)")
  }

  func testDowncastToBoolAndUint8AndUnknownFeature() throws {
    let b = try build(PreprocessConfig(downcast: ["continuous": .bool, "user_eng_embedding": .uint8]), rows: 1) { _, ex in
      ex["cont_vals"] = .floats([0, -0.0, 1e-30, -2, 3, 0, 0, 0, 0, .infinity])
      ex["user_eng_emb"] = .floats([2.7, 255, 256, 0, 1, 300])
    }
    XCTAssertEqual(b.continuous.scalars, [0, 0, 1, 1, 1, 0, 0, 0, 0, 1])
    XCTAssertEqual(b.userEngEmbedding!.scalars, [2, 255, 0, 0, 1, 44])
    S.assertDataError(["downcast", "not_a_tensor"]) { try build(PreprocessConfig(downcast: ["not_a_tensor": .bfloat16])) }
  }

  static let timestampFeatures: [SegdenseSchema.Feature] = ["served_ts", "impressed_ts", "liked_ts", "replied_ts"].map {
    .init(featureName: $0, dtype: .int64List, length: 1)
  }

  func rectifyBatch(listedInFeatures: Bool) throws -> RecapBatch {
    let hour: Int64 = 3_600_000
    let base: Int64 = 1_700_000_000_000
    // (impressed − served, liked − served, replied − served) in ms, labels [liked, replied, shared].
    let cases: [(Int64, Int64, Int64, [Int64])] = [
      (10 * 60_000, hour / 2, hour / 2, [1, 1, 1]),  // inside the window: kept
      (10 * 60_000, 2 * hour, hour / 2, [1, 1, 1]),  // liked too late
      (2 * hour, hour / 2, hour / 2, [1, 1, 1]),  // impressed too late: both rectified
      (10 * 60_000, hour, hour - 1, [1, 1, 0]),  // exactly the window is outside
      (0, 5 * hour, 5 * hour, [0, 0, 1]),  // negatives stay negative; unlisted labels are untouched
    ]
    let config = PreprocessConfig(rectifyLabels: .init(
      labelRectificationWindowInHours: 1, servedTimestampField: "served_ts", impressedTimestampField: "impressed_ts",
      labelToEngagedTimestampField: ["is_liked": "liked_ts", "is_replied": "replied_ts"]))
    return try build(config, rows: cases.count, labels: cases.map(\.3),
                     features: listedInFeatures ? Self.timestampFeatures.map(\.featureName) : [],
                     schemaExtra: Self.timestampFeatures) { r, ex in
      let served = base + Int64(r) * 1000
      ex["served_ts"] = .int64s([served])
      ex["impressed_ts"] = .int64s([served + cases[r].0])
      ex["liked_ts"] = .int64s([served + cases[r].1])
      ex["replied_ts"] = .int64s([served + cases[r].2])
    }
  }

  func testRectifyLabelsKeepsOnlyEngagementsInsideTheWindow() throws {
    for listed in [true, false] {
      let b = try rectifyBatch(listedInFeatures: listed)
      XCTAssertEqual(b.labels.scalars, [
        1, 1, 1,
        0, 1, 1,
        0, 0, 1,
        0, 1, 0,
        0, 0, 1,
      ], "timestamps listed in features: \(listed)")
      XCTAssertEqual(b.extraInt64["served_ts"]?.first, 1_700_000_000_000)
    }
  }

  func testRectifyLabelsNeedsLengthOneInt64Timestamps() throws {
    let config = PreprocessConfig(rectifyLabels: .init(servedTimestampField: "served_ts", impressedTimestampField: "wide_ts", labelToEngagedTimestampField: [:]))
    let extra: [SegdenseSchema.Feature] = [.init(featureName: "served_ts", dtype: .int64List, length: 1), .init(featureName: "wide_ts", dtype: .int64List, length: 2)]
    S.assertDataError(["rectify_labels", "wide_ts"]) { try build(config, rows: 1, schemaExtra: extra) }
    let missing = PreprocessConfig(rectifyLabels: .init(servedTimestampField: "served_ts", impressedTimestampField: "nope_ts", labelToEngagedTimestampField: [:]))
    S.assertDataError(["nope_ts"]) { try build(missing, rows: 1, schemaExtra: extra) }
  }

  func testExtractFeaturesCopiesAColumn() throws {
    let b = try build(PreprocessConfig(extractFeatures: [.init(name: "cont_3", sourceTensor: "continuous", index: 3), .init(name: "bin_0", sourceTensor: "binary", index: 0)]))
    XCTAssertEqual(b.extra["cont_3"]?.shape, [3, 1])
    XCTAssertEqual(b.extra["cont_3"]?.scalars, [3, 1003, 2003])
    XCTAssertEqual(b.extra["bin_0"]?.scalars, [0, 1, 0])
    XCTAssertEqual(b.continuous.shape, [3, 10])  // the source is unchanged
    S.assertDataError(["extract_features", "too_far", "continuous"]) {
      try build(PreprocessConfig(extractFeatures: [.init(name: "too_far", sourceTensor: "continuous", index: 10)]))
    }
    S.assertDataError(["extract_features", "ghost"]) {
      try build(PreprocessConfig(extractFeatures: [.init(name: "ghost", sourceTensor: "no_such_tensor", index: 0)]))
    }
  }

  // MARK: - downsample_negatives

  func testDownsampleNegativesDocstringExample() throws {
    // The original's docstring: labels [1, 0, 0, 0], batch_multiplier 2 → kept [1, 0], weights [1, 3].
    let b = try build(PreprocessConfig(downsampleNegatives: .init(batchMultiplier: 2, engagementsList: ["is_liked"], numEngagements: 1)),
                      rows: 4, labels: [[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]])
    XCTAssertEqual(b.size, 2)
    XCTAssertEqual(b.labels.scalars, [1, 0, 0, 0, 0, 0])
    XCTAssertEqual(b.weights.scalars, [1, 1, 1, 3, 3, 3])
    XCTAssertEqual(b.meta["meta__tweet_id"], [0, 1])
    XCTAssertEqual(b.continuous.shape, [2, 10])
  }

  func testDownsampleNegativesKeepsPositivesFirstAndScalesNegativeWeights() throws {
    // 8 examples, positives (any of is_liked / is_shared) at rows 2, 5, 6; multiplier 2 → keep 4:
    // rows 2, 5, 6 then the first negative (row 0). Negative weight (2·4 − 3)/(4 − 3) = 5,
    // times the sampling weight 1/neg_rate.
    let labels: [[Int64]] = [[0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1], [1, 0, 1], [0, 0, 0]]
    let schema = try S.smallSchema(continuous: 10, binary: 6)
    let config = S.smallConfig(
      tasks: [("is_liked", .init(posDownsamplingRate: 1, negDownsamplingRate: 0.5)), ("is_replied", .init()), ("is_shared", .init())],
      preprocess: PreprocessConfig(downsampleNegatives: .init(batchMultiplier: 2, engagementsList: ["is_liked", "is_shared"], numEngagements: 2)))
    let builder = try RecapBatchBuilder(schema: schema, config: config)
    let b = try builder.build(try (0..<8).map { try S.record(S.smallExample(row: $0, continuous: 10, binary: 6, labels: labels[$0])) })
    XCTAssertEqual(b.size, 4)
    XCTAssertEqual(b.meta["meta__tweet_id"], [2, 5, 6, 0])
    XCTAssertEqual(b.labels.scalars, [1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0])
    XCTAssertEqual(b.weights.scalars, [1, 1, 1, 2, 1, 1, 1, 1, 1, 10, 5, 5])
    XCTAssertEqual(S.row(b.continuous, 3), (0..<10).map { Float($0) })
    XCTAssertEqual(b.discrete?.values[12...].map { $0 }, [0, 1, 2, 3])
  }

  func testDownsampleNegativesEdgeCasesAndConfigErrors() throws {
    let ds = PreprocessConfig.DownsampleNegatives(batchMultiplier: 2, engagementsList: ["is_liked"], numEngagements: 1)
    // All negative: keep B/2 with weight m·b/b = 2.
    let neg = try build(PreprocessConfig(downsampleNegatives: ds), rows: 4)
    XCTAssertEqual(neg.size, 2)
    XCTAssertEqual(neg.weights.scalars, [2, 2, 2, 2, 2, 2])
    // Positives fill the kept half: no negatives survive (and none is divided by zero).
    let pos = try build(PreprocessConfig(downsampleNegatives: ds), rows: 4, labels: [[0, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 0]])
    XCTAssertEqual(pos.meta["meta__tweet_id"], [1, 2])
    XCTAssertEqual(pos.weights.scalars, [1, 1, 1, 1, 1, 1])
    XCTAssertFalse(pos.weights.scalars.contains { !$0.isFinite })
    S.assertDataError(["engagements_list", "is_bookmarked"]) {
      try build(PreprocessConfig(downsampleNegatives: .init(batchMultiplier: 2, engagementsList: ["is_bookmarked"], numEngagements: 1)))
    }
    S.assertDataError(["batch_multiplier"]) {
      try build(PreprocessConfig(downsampleNegatives: .init(batchMultiplier: 0, engagementsList: ["is_liked"], numEngagements: 1)))
    }
  }

  func testPreprocessorsRunInTheOriginalOrder() throws {
    // downsample_negatives, then truncate_and_slice, then downcast, then extract_features
    // reads the truncated, downcast tensor.
    let b = try build(PreprocessConfig(
      truncateAndSlice: .init(continuousFeatureTruncation: 5), downcast: ["continuous": .bfloat16],
      extractFeatures: [.init(name: "last", sourceTensor: "continuous", index: 4)],
      downsampleNegatives: .init(batchMultiplier: 2, engagementsList: ["is_replied"], numEngagements: 1)),
      rows: 4, labels: [[0, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0]])
    XCTAssertEqual(b.meta["meta__tweet_id"], [2, 0])
    XCTAssertEqual(b.continuous.shape, [2, 5])
    XCTAssertEqual(b.extra["last"]?.scalars, [2000, 4])  // bfloat16(2004) = 2000 (a tie, to even)
    S.assertDataError(["extract_features", "continuous"]) {
      try build(PreprocessConfig(truncateAndSlice: .init(continuousFeatureTruncation: 5), extractFeatures: [.init(name: "x", sourceTensor: "continuous", index: 7)]))
    }
  }

  func testBfloat16BitsHelperMatchesRoundToNearestEven() {
    // Against an independent reference: round the exact value to 8 significant bits, ties to even.
    var rng = RandomGenerator(seed: 11)
    for _ in 0..<2000 {
      let bits = UInt32(truncatingIfNeeded: rng.next())
      let f = Float(bitPattern: bits)
      guard f.isFinite else { continue }
      let lower = bits & 0xFFFF_0000
      let rest = bits & 0xFFFF
      var expected = lower
      if rest > 0x8000 || (rest == 0x8000 && (lower >> 16) & 1 == 1) { expected = lower &+ 0x10000 }
      XCTAssertEqual(UInt32(Preprocessor.bfloat16Bits(f)) << 16, expected, "\(f)")
    }
    XCTAssertEqual(Preprocessor.bfloat16Bits(.nan) & 0x7FC0, 0x7FC0)
  }

  // MARK: - Bad input must be an error or a defined value, never a trap (DESIGN §11)

  func testDowncastToUint8OfNaNDoesNotTrap() throws {
    let b = try build(PreprocessConfig(downcast: ["continuous": .uint8]), rows: 1) { _, ex in
      ex["cont_vals"] = .floats([.nan, -.infinity, .infinity, 0, 0, 0, 0, 0, 0, 0])
    }
    XCTAssertEqual(b.continuous.scalars[0], 0)
  }

  func testNpyWithANegativeDimensionIsAnError() throws {
    S.assertDataError(["neg.npy", "shape"]) { try NpyArray(data: Self.npy(descr: "<f4", shape: [-1], body: []), source: "neg.npy") }
  }

  func testRectifyLabelsWithExtremeTimestampsDoesNotTrap() throws {
    let extra: [SegdenseSchema.Feature] = ["served_ts", "impressed_ts", "liked_ts"].map { .init(featureName: $0, dtype: .int64List, length: 1) }
    let config = PreprocessConfig(rectifyLabels: .init(
      servedTimestampField: "served_ts", impressedTimestampField: "impressed_ts", labelToEngagedTimestampField: ["is_liked": "liked_ts"]))
    let b = try build(config, rows: 1, labels: [[1, 0, 0]], schemaExtra: extra) { _, ex in
      ex["served_ts"] = .int64s([.min])
      ex["impressed_ts"] = .int64s([.max])
      ex["liked_ts"] = .int64s([0])
    }
    XCTAssertEqual(b.labels.scalars, [0, 0, 0])
  }
}
