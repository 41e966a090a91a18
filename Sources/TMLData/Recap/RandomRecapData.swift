import Foundation
import TMLIO
import SwiftProtobuf
import TMLTensor

/// Random Heavy Ranker data for any segdense schema and data config (what the original's
/// `create_random_data.sh` does), written as gzip TFRecords of tf.Examples, with an
/// optional planted signal so that a model can learn something measurable:
///
///     x_cont ~ N(0, 1) (first `signalFeatures` of `continuous`), binary ~ Bernoulli(0.3)
///     logit_t = b_t + Σ_j w_tj · x_cont,j + Σ_k v_tk · (binary_k − 0.3),  w, v ~ N(0, σ²)
///     y_t ~ Bernoulli(σ(logit_t)),  b_t sets the base rate (≈ 10 %)
///
/// Other float features are N(0, 1), other int64 features small ids, meta ids random.
public struct RandomRecapData {
  public var schema: SegdenseSchema
  public var config: RecapDataConfig
  public var seed: UInt64
  /// How many leading continuous and binary features carry the signal (0 = pure noise labels).
  public var signalFeatures: Int
  public var signalScale: Float
  /// Int64 features whose values are ids below a bound (feature name → bound), e.g. the
  /// ranker's id-embedding features; other int64 features keep their defaults.
  public var idRanges: [String: Int] = [:]

  public init(schema: SegdenseSchema, config: RecapDataConfig, seed: UInt64 = 0, signalFeatures: Int = 16, signalScale: Float = 1.5) {
    self.schema = schema
    self.config = config
    self.seed = seed
    self.signalFeatures = signalFeatures
    self.signalScale = signalScale
  }

  /// Writes `examples` examples across `files` gzip TFRecord files named
  /// `<prefix>-<i>.tfrecord.gz` in `directory`; returns their paths.
  @discardableResult
  /// `split` selects an independent stream of examples (e.g. 0 train, 1 validation)
  /// drawn with the same planted signal.
  public func write(examples: Int, files: Int = 1, to directory: URL, prefix: String = "part", split: UInt64 = 0,
                    progress: ((Int) -> Void)? = nil) throws -> [String] {
    do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
      throw FileError.from(error, path: directory.path)
    }
    var rng = RandomGenerator(seed: seed, stream: 0xDA7A &+ split)
    var weightsRNG = RandomGenerator(seed: seed, stream: 0x5167)
    let renamed = config.segDenseSchema.renamedFeatures
    let continuousName = renamed["continuous"], binaryName = renamed["binary"], discreteName = renamed["discrete"]
    let k = signalFeatures
    let taskWeights = config.tasks.map { _ in (0..<(2 * k)).map { _ in weightsRNG.normal() * signalScale / Float(max(k, 1)).squareRoot() } }
    let labelNames = Set(config.tasks.map(\.name))
    let fileCount = max(files, 1)
    var paths: [String] = []
    var written = 0
    for f in 0..<fileCount {
      let path = directory.appendingPathComponent("\(prefix)-\(f).tfrecord.gz").path
      let writer = try TFRecordWriter(path: path, compressed: true)
      let count = examples / fileCount + (f < examples % fileCount ? 1 : 0)
      for _ in 0..<count {
        var features: [String: Tensorflow_Feature] = [:]
        var cont: [Float] = [], bin: [Int64] = []
        for feature in schema.features where !labelNames.contains(feature.featureName) {
          switch (feature.featureName, feature.dtype) {
          case (binaryName, .int64List):
            bin = (0..<feature.length).map { _ in rng.bernoulli(0.3) ? 1 : 0 }
            features[feature.featureName] = .int64s(bin)
          case (binaryName, .floatList):
            let b = (0..<feature.length).map { _ in rng.bernoulli(0.3) ? Float(1) : 0 }
            bin = b.map { Int64($0) }
            features[feature.featureName] = .floats(b)
          case (discreteName, _):
            let bound = idRanges[feature.featureName] ?? 100
            features[feature.featureName] = .int64s((0..<feature.length).map { _ in Int64(rng.int(below: bound)) })
          case (_, .int64List) where idRanges[feature.featureName] != nil:
            let bound = idRanges[feature.featureName]!
            features[feature.featureName] = .int64s((0..<feature.length).map { _ in Int64(rng.int(below: bound)) })
          case (_, .floatList) where idRanges[feature.featureName] != nil:
            let bound = idRanges[feature.featureName]!
            features[feature.featureName] = .floats((0..<feature.length).map { _ in Float(rng.int(below: bound)) })
          case (continuousName, _):
            cont = (0..<feature.length).map { _ in rng.normal() }
            features[feature.featureName] = .floats(cont)
          case (_, .floatList):
            features[feature.featureName] = .floats((0..<feature.length).map { _ in rng.normal() })
          case (_, .int64List):
            features[feature.featureName] = .int64s((0..<feature.length).map { _ in Int64(rng.int(below: 1 << 30)) })
          case (_, .bytesList):
            features[feature.featureName] = .bytes((0..<feature.length).map { _ in Data("x".utf8) })
          }
        }
        for (t, task) in config.tasks.enumerated() {
          var logit: Float = -2.2
          let w = taskWeights[t]
          for j in 0..<min(k, cont.count) { logit += w[j] * cont[j] }
          for j in 0..<min(k, bin.count) { logit += w[k + j] * (Float(bin[j]) - 0.3) * 2 }
          let y: Int64 = rng.uniform() < Tensor.sigmoid(logit) ? 1 : 0
          features[task.name] = .int64s([y])
        }
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let bytes: [UInt8] = try Tensorflow_Example(features: features).serializedBytes(options: options)
        try writer.write(bytes)
        written += 1
        progress?(written)
      }
      try writer.close()
      paths.append(path)
    }
    return paths
  }
}
