import Foundation
import TMLTensor

/// The original's batch preprocessors, applied in its order:
///
/// 1. `downsample_negatives`: keep every example positive for any of `engagements_list`,
///    then negatives, truncated to B/batch_multiplier; the weights of all tasks are
///    multiplied by 1 for positives and (multiplier·b − P)/(b − P) for negatives.
/// 2. `truncate_and_slice`: continuous[:, :c], binary[:, :k], then the nonzero columns
///    of the `.npy` masks.
/// 3. `downcast`: round a tensor's values to bfloat16/float16 precision, or to bool / uint8.
/// 4. `rectify_labels`: a positive label stays 1 only if impressed − served and
///    engaged − served are both under the window (hours → ms).
/// 5. `extract_features`: `extra[name] = source[:, index]`.
struct Preprocessor {
  let config: PreprocessConfig?
  let taskNames: [String]
  let continuousMask: [Int]?
  let binaryMask: [Int]?

  init(_ config: PreprocessConfig?, taskNames: [String], baseDirectory: URL?) throws {
    self.config = config
    self.taskNames = taskNames
    func mask(_ path: String?) throws -> [Int]? {
      guard let path else { return nil }
      let url = path.hasPrefix("/") || baseDirectory == nil ? URL(fileURLWithPath: path) : baseDirectory!.appendingPathComponent(path)
      return try NpyArray(contentsOf: url).nonzeroIndices
    }
    continuousMask = try mask(config?.truncateAndSlice?.continuousFeatureMaskPath)
    binaryMask = try mask(config?.truncateAndSlice?.binaryFeatureMaskPath)
    if let d = config?.downsampleNegatives {
      for e in d.engagementsList where !taskNames.contains(e) {
        throw DataError("preprocess.downsample_negatives.engagements_list names \(e), which is not one of the data config's tasks")
      }
      guard d.batchMultiplier >= 1 else { throw DataError("preprocess.downsample_negatives.batch_multiplier must be ≥ 1, got \(d.batchMultiplier)") }
    }
  }

  func apply(_ input: RecapBatch) throws -> RecapBatch {
    guard let config else { return input }
    var b = input
    if let d = config.downsampleNegatives { b = try downsampleNegatives(b, d) }
    if let t = config.truncateAndSlice { b = try truncateAndSlice(b, t) }
    if let casts = config.downcast { b = try downcast(b, casts) }
    if let r = config.rectifyLabels { b = try rectify(b, r) }
    for e in config.extractFeatures ?? [] { b = try extract(b, e) }
    return b
  }

  func downsampleNegatives(_ b: RecapBatch, _ d: PreprocessConfig.DownsampleNegatives) throws -> RecapBatch {
    let columns = try d.engagementsList.map { try b.labelColumn($0) }
    let t = b.taskNames.count
    let labels = b.labels.scalars
    let positive = (0..<b.size).map { r in columns.contains { labels[r * t + $0] == 1 } }
    let keep = b.size / d.batchMultiplier
    let p = positive.filter { $0 }.count
    let negativeWeight: Float = keep - p == 0 ? 0 : Float(d.batchMultiplier * keep - p) / Float(keep - p)
    let order = (0..<b.size).filter { positive[$0] } + (0..<b.size).filter { !positive[$0] }
    var out = try b.selecting(Array(order.prefix(keep)))
    let w = out.weights.scalars
    var scaled = w
    for r in 0..<out.size where !positive[order[r]] { for c in 0..<t { scaled[r * t + c] = w[r * t + c] * negativeWeight } }
    out.weights = try Tensor(shape: out.weights.shape, scalars: scaled)
    return out
  }

  func truncateAndSlice(_ b: RecapBatch, _ t: PreprocessConfig.TruncateAndSlice) throws -> RecapBatch {
    var out = b
    func prefix(_ x: Tensor, _ n: Int?) throws -> Tensor {
      if let n, n <= 0 { throw DataError("preprocess.truncate_and_slice: truncation must be positive, got \(n)") }
      guard let n, n < x.shape[1] else { return x }
      return try x.indexSelect(axis: -1, IndexTensor(Array(0..<n)))
    }
    out.continuous = try prefix(out.continuous, t.continuousFeatureTruncation)
    out.binary = try prefix(out.binary, t.binaryFeatureTruncation)
    do {
      if let m = continuousMask { out.continuous = try out.continuous.indexSelect(axis: -1, IndexTensor(m)) }
      if let m = binaryMask { out.binary = try out.binary.indexSelect(axis: -1, IndexTensor(m)) }
    } catch {
      throw DataError("preprocess.truncate_and_slice: a feature mask selects a column beyond the (truncated) features: \(error)")
    }
    return out
  }

  func downcast(_ b: RecapBatch, _ casts: [String: PreprocessConfig.DownCastType]) throws -> RecapBatch {
    var out = b
    for (name, type) in casts.sorted(by: { $0.key < $1.key }) {
      let round: (Float) -> Float
      switch type {
      case .float32: continue
      case .bfloat16: round = { Float(bitPattern: UInt32(Preprocessor.bfloat16Bits($0)) << 16) }
      case .float16: round = { Preprocessor.roundToHalf($0) }
      case .bool: round = { $0 != 0 ? 1 : 0 }
      case .uint8: round = { $0.isNaN ? 0 : Float(UInt8(truncatingIfNeeded: Int(max(min($0, 1e9), -1e9)))) }
      }
      func cast(_ t: Tensor) throws -> Tensor { try Tensor(shape: t.shape, scalars: t.scalars.map(round)) }
      switch name {
      case "continuous": out.continuous = try cast(out.continuous)
      case "binary": out.binary = try cast(out.binary)
      case "user_embedding": out.userEmbedding = try out.userEmbedding.map(cast)
      case "user_eng_embedding": out.userEngEmbedding = try out.userEngEmbedding.map(cast)
      case "author_embedding": out.authorEmbedding = try out.authorEmbedding.map(cast)
      default:
        guard let t = out.extra[name] else { throw DataError("preprocess.downcast: unknown feature \(name)") }
        out.extra[name] = try cast(t)
      }
    }
    return out
  }

  static func bfloat16Bits(_ f: Float) -> UInt16 {
    if f.isNaN { return 0x7FC0 }
    let bits = f.bitPattern
    return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
  }

  static func roundToHalf(_ f: Float) -> Float {
    guard f.isFinite, abs(f) < 65520 else { return f.isNaN ? f : (f > 0 ? .infinity : -.infinity) }
    if f == 0 { return f }
    let ulp = Float(sign: .plus, exponent: max(f.exponent, -14) - 10, significand: 1)
    return (f / ulp).rounded(.toNearestOrEven) * ulp
  }

  func rectify(_ b: RecapBatch, _ r: PreprocessConfig.RectifyLabels) throws -> RecapBatch {
    let window = Int64(r.labelRectificationWindowInHours * 3_600_000)
    func column(_ name: String) throws -> [Int64] {
      guard let v = b.extraInt64[name], v.count == b.size else {
        throw DataError("preprocess.rectify_labels: timestamp feature \(name) must be an int64_list of length 1 in the schema")
      }
      return v
    }
    let served = try column(r.servedTimestampField), impressed = try column(r.impressedTimestampField)
    var labels = b.labels.scalars
    let t = b.taskNames.count
    for (label, field) in r.labelToEngagedTimestampField.sorted(by: { $0.key < $1.key }) {
      let c = try b.labelColumn(label)
      let engaged = try column(field)
      for i in 0..<b.size {
        // Overflowing differences (garbage timestamps) count as outside the window.
        let (di, oi) = impressed[i].subtractingReportingOverflow(served[i])
        let (de, oe) = engaged[i].subtractingReportingOverflow(served[i])
        let keep = labels[i * t + c] > 0 && !oi && !oe && di < window && de < window
        if !keep { labels[i * t + c] = 0 }
      }
    }
    var out = b
    out.labels = try Tensor(shape: b.labels.shape, scalars: labels)
    return out
  }

  func extract(_ b: RecapBatch, _ e: PreprocessConfig.ExtractFeature) throws -> RecapBatch {
    let source: Tensor?
    switch e.sourceTensor {
    case "continuous": source = b.continuous
    case "binary": source = b.binary
    default: source = b.extra[e.sourceTensor]
    }
    guard let source, source.rank == 2, e.index >= 0, e.index < source.shape[1] else {
      throw DataError("preprocess.extract_features: \(e.name) reads column \(e.index) of \(e.sourceTensor), which does not exist (or is out of range)")
    }
    var out = b
    out.extra[e.name] = try source.indexSelect(axis: -1, IndexTensor([e.index]))
    return out
  }
}
