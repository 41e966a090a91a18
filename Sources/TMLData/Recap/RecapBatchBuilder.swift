import Foundation
import TMLTensor

/// A serialized record and where it came from (for error messages).
public struct RawRecord: Sendable {
  public var bytes: [UInt8]
  public var file: String
  public var index: Int
  public init(bytes: [UInt8], file: String, index: Int) {
    self.bytes = bytes
    self.file = file
    self.index = index
  }
}

/// Turns serialized tf.Examples into `RecapBatch`es for a segdense schema and a data
/// config: reads the renamed features, labels and meta ids by name, fills absent
/// features with zeros (`FixedLenFeature` defaults), computes the sampling weights and
/// applies the preprocessors. Every problem names the file, the record index and the
/// feature.
public struct RecapBatchBuilder {
  public let schema: SegdenseSchema
  public let config: RecapDataConfig
  let parser: ExampleParser
  let slotOf: [String: Int]
  let preprocessor: Preprocessor

  /// Model inputs read as float rows, and as int64 rows.
  static let floatInputs = ["continuous", "user_embedding", "user_eng_embedding", "author_embedding"]
  static let knownInputs = Set(floatInputs + ["binary", "discrete"])

  public init(schema: SegdenseSchema, config: RecapDataConfig, baseDirectory: URL? = nil) throws {
    self.schema = schema
    self.config = config
    var slots: [ExampleParser.Slot] = []
    var slotOf: [String: Int] = [:]
    func add(_ key: String, _ featureName: String, expect: SegdenseSchema.DType?) throws {
      guard let f = schema[featureName] else {
        throw DataError("data config: \(key) refers to feature \"\(featureName)\", which is not in the segdense schema (\(schema.features.count) features); fix renamed_features/tasks or the schema_path")
      }
      if let expect, f.dtype != expect {
        throw DataError("data config: \(key) (feature \(featureName)) must be a \(expect.rawValue) but the schema says \(f.dtype.rawValue)")
      }
      guard f.dtype != .bytesList else {
        throw DataError("data config: \(key) (feature \(featureName)) is a bytes_list; only float_list and int64_list features can be model inputs")
      }
      slotOf[key] = slots.count
      slots.append(.init(name: featureName, kind: f.dtype == .floatList ? .float : .int64, length: f.length))
    }
    let renamed = config.segDenseSchema.renamedFeatures
    guard renamed["continuous"] != nil else {
      throw DataError("data config: seg_dense_schema.renamed_features must map \"continuous\" to a float_list feature")
    }
    for (input, feature) in renamed.sorted(by: { $0.key < $1.key }) {
      guard RecapBatchBuilder.knownInputs.contains(input) || input.hasPrefix("meta__") else {
        throw DataError("data config: seg_dense_schema.renamed_features has unknown model input \"\(input)\"; known: \(RecapBatchBuilder.knownInputs.sorted().joined(separator: ", ")), meta__*")
      }
      let expect: SegdenseSchema.DType = RecapBatchBuilder.floatInputs.contains(input) ? .floatList : .int64List
      try add("renamed_features.\(input)", feature, expect: input == "binary" ? nil : expect)
    }
    for (task, _) in config.tasks {
      try add("tasks.\(task)", task, expect: nil)
      guard schema[task]!.length == 1 else {
        throw DataError("data config: label \(task) has length \(schema[task]!.length) in the schema; labels must have length 1")
      }
    }
    for name in config.segDenseSchema.features where slotOf["extra.\(name)"] == nil {
      try add("extra.\(name)", name, expect: nil)
    }
    if let r = config.preprocess?.rectifyLabels {
      for f in [r.servedTimestampField, r.impressedTimestampField] + r.labelToEngagedTimestampField.values.sorted()
      where slotOf["extra.\(f)"] == nil {
        try add("extra.\(f)", f, expect: nil)
      }
    }
    self.slotOf = slotOf
    parser = ExampleParser(slots: slots)
    preprocessor = try Preprocessor(config.preprocess, taskNames: config.tasks.map(\.name), baseDirectory: baseDirectory)
  }

  /// Builds one batch from `records` (all of them, in order), then preprocesses it.
  public func build(_ records: [RawRecord]) throws -> RecapBatch {
    try build(records, skippingBadRecords: false).batch
  }

  /// Builds a batch; with `skippingBadRecords` a record that fails to parse or has a
  /// label other than 0/1 is left out and described in `skipped` instead of throwing.
  public func build(_ records: [RawRecord], skippingBadRecords: Bool) throws -> (batch: RecapBatch, skipped: [SkippedRecord]) {
    var bad = Set<Int>()
    var skipped: [SkippedRecord] = []
    let b = records.count
    let slots = parser.slots
    var floatStorage = [Tensor?](repeating: nil, count: slots.count)
    var intStorage = [ContiguousArray<Int64>?](repeating: nil, count: slots.count)
    for (i, s) in slots.enumerated() {
      if s.kind == .float { floatStorage[i] = Tensor.zeros([b, s.length]) } else { intStorage[i] = ContiguousArray(repeating: 0, count: b * s.length) }
    }
    // Raw row pointers for the parser; the arrays are uniquely owned and not resized below.
    var intPointers = [UnsafeMutablePointer<Int64>?](repeating: nil, count: slots.count)
    for i in slots.indices where intStorage[i] != nil {
      intPointers[i] = intStorage[i]!.withUnsafeMutableBufferPointer { $0.baseAddress }
    }
    var floatPointers = [UnsafeMutablePointer<Float>?](repeating: nil, count: slots.count)
    for i in slots.indices where floatStorage[i] != nil {
      floatPointers[i] = floatStorage[i]!.withUnsafeMutableBufferPointer { $0.baseAddress }
    }
    try withExtendedLifetime((intStorage, floatStorage)) {
      for (r, record) in records.enumerated() {
        let dest = ExampleParser.Destination(
          floats: slots.indices.map { i in floatPointers[i].map { $0 + r * slots[i].length } },
          int64s: slots.indices.map { i in intPointers[i].map { $0 + r * slots[i].length } })
        do {
          _ = try record.bytes.withUnsafeBytes { try parser.parse($0, into: dest) }
        } catch let e as ExampleParser.RecordError {
          let message = "\(record.file): record \(record.index): \(e.message)"
          guard skippingBadRecords else { throw DataError(message) }
          bad.insert(r)
          skipped.append(SkippedRecord(file: record.file, index: record.index, message: message))
        }
      }
    }
    func floats(_ key: String) -> Tensor? { slotOf[key].flatMap { floatStorage[$0] } }
    func ints(_ key: String) -> (values: ContiguousArray<Int64>, width: Int)? {
      slotOf[key].flatMap { i in intStorage[i].map { ($0, slots[i].length) } }
    }
    // binary may be stored as int64_list (the reference schema) or float_list.
    let binary: Tensor
    if let f = floats("renamed_features.binary") { binary = f }
    else if let (v, w) = ints("renamed_features.binary") { binary = try Tensor(shape: [b, w], scalars: v.map { Float($0) }) }
    else { binary = Tensor.zeros([b, 0]) }
    let discrete = try ints("renamed_features.discrete").map { try IndexTensor(shape: [b, $0.width], values: $0.values.map { Int($0) }) }
    var labels = [Float](repeating: 0, count: b * config.tasks.count)
    var weights = [Float](repeating: 1, count: b * config.tasks.count)
    for (t, task) in config.tasks.enumerated() {
      let (v, _) = ints("tasks.\(task.name)") ?? (ContiguousArray(repeating: 0, count: b), 1)
      let f = floats("tasks.\(task.name)")
      for r in 0..<b {
        let y: Float = f.map { $0[r, 0] } ?? Float(v[r])
        guard y == 0 || y == 1 || bad.contains(r) else {
          let message = "\(records[r].file): record \(records[r].index): label \(task.name) is \(y); labels must be 0 or 1"
          guard skippingBadRecords else { throw DataError(message) }
          bad.insert(r)
          skipped.append(SkippedRecord(file: records[r].file, index: records[r].index, message: message))
          continue
        }
        labels[r * config.tasks.count + t] = y
        weights[r * config.tasks.count + t] = Float(Double(y) / task.data.posDownsamplingRate + Double(1 - y) / task.data.negDownsamplingRate)
      }
    }
    var meta: [String: [Int64]] = [:]
    var extra: [String: Tensor] = [:]
    var extraInt64: [String: [Int64]] = [:]
    for (key, i) in slotOf {
      if key.hasPrefix("renamed_features.meta__") {
        meta[String(key.dropFirst("renamed_features.".count))] = intStorage[i].map { Array($0) } ?? floatStorage[i]!.scalars.map { Int64($0) }
      } else if key.hasPrefix("extra.") {
        let name = String(key.dropFirst("extra.".count))
        if let f = floatStorage[i] { extra[name] = f } else { extraInt64[name] = Array(intStorage[i]!) }
      }
    }
    var batch = RecapBatch(
      size: b, continuous: floats("renamed_features.continuous")!, binary: binary, discrete: discrete,
      userEmbedding: floats("renamed_features.user_embedding"), userEngEmbedding: floats("renamed_features.user_eng_embedding"),
      authorEmbedding: floats("renamed_features.author_embedding"),
      labels: try Tensor(shape: [b, config.tasks.count], scalars: labels),
      weights: try Tensor(shape: [b, config.tasks.count], scalars: weights),
      taskNames: config.tasks.map(\.name), meta: meta, extra: extra, extraInt64: extraInt64)
    if !bad.isEmpty { batch = try batch.selecting((0..<b).filter { !bad.contains($0) }) }
    return (try preprocessor.apply(batch), skipped)
  }
}
