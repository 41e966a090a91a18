import Foundation
import TMLData
import TMLNN
import TMLTrain

extension RecapRun {
  /// The directory and file prefix a glob like `data/x/part-*.tfrecord.gz` describes.
  static func target(ofGlob glob: String) -> (directory: URL, prefix: String) {
    let url = URL(fileURLWithPath: glob)
    let name = url.lastPathComponent
    let prefix = name.split(separator: "*", maxSplits: 1).first.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "-_.")) } ?? "part"
    return (url.deletingLastPathComponent(), prefix.isEmpty ? "part" : prefix)
  }

  /// Random data with a planted signal for the train inputs (`examples`) and each
  /// validation dataset (`examples / 5`), written where the config's `inputs` globs
  /// point — or, for `explicit_date(time)_inputs`, one file in each dated folder — or
  /// under `outDirectory/{train,<dataset>}` when given. Returns the files.
  @discardableResult
  public func generateData(examples: Int, outDirectory: URL? = nil, files: Int = 4, progress: ((Int) -> Void)? = nil) throws -> [String] {
    // (config, directory, file prefix, files, examples, split seed)
    var targets: [(RecapDataConfig, URL, String, Int, Int, UInt64)] = []
    func add(_ data: RecapDataConfig, name: String, examples n: Int, split: UInt64) {
      if let out = outDirectory {
        targets.append((data, out.appendingPathComponent(name), RecapRun.target(ofGlob: data.inputs).prefix, files, n, split))
      } else if let dated = data.datedInputs {
        let folders = dated.folders
        for (i, folder) in folders.enumerated() {
          let share = n / folders.count + (i < n % folders.count ? 1 : 0)
          // One file per folder, named after the dataset so overlapping train and
          // validation periods do not overwrite each other; at least one example each.
          targets.append((data, URL(fileURLWithPath: folder), "\(name)-part", 1, max(share, 1), split &* 1_000_003 &+ UInt64(i)))
        }
      } else {
        let t = RecapRun.target(ofGlob: data.inputs)
        targets.append((data, t.directory, t.prefix, files, n, split))
      }
    }
    add(trainData, name: "train", examples: examples, split: 0)
    var seen = Set([trainData.inputs])
    for (i, (name, data)) in try validationData().enumerated() where seen.insert(data.inputs).inserted {
      add(data, name: name, examples: max(examples / 5, 1), split: UInt64(i + 1))
    }
    var written: [String] = []
    var done = 0
    for (data, dir, prefix, fileCount, n, split) in targets {
      var generator = RandomRecapData(schema: schema, config: data, seed: seed)
      generator.idRanges = idFeatureRanges(data)
      let base = done
      written += try generator.write(examples: n, files: fileCount, to: dir, prefix: prefix, split: split) { progress?(base + $0) }
      done += n
    }
    return written
  }

  /// Schema feature → row count for the id features of the `large_embeddings` and
  /// `small_embeddings` tables, so generated ids fall inside their tables.
  func idFeatureRanges(_ data: RecapDataConfig) -> [String: Int] {
    var ranges: [String: Int] = [:]
    let renamed = data.segDenseSchema.renamedFeatures
    for t in spec.largeEmbeddings { ranges[renamed[t.name] ?? t.name] = t.numEmbeddings }
    if let discrete = renamed["discrete"], let smallest = spec.smallEmbeddings.map(\.numEmbeddings).min() {
      ranges[discrete] = min(smallest, 100)
    }
    return ranges
  }

  /// Validates a PyTorch state dict of the original (saved as safetensors; a `model.`
  /// prefix is accepted) against this config's model and writes it as a SwiftTML
  /// checkpoint `out/checkpoints/step_0` (with `out` locked, as a training run locks it).
  @discardableResult
  public func importTorch(stateDict path: String, out: URL) throws -> URL {
    let lock = try SaveDirLock(saveDir: out)
    defer { lock.unlock() }
    let state = try SafetensorsFile(contentsOf: URL(fileURLWithPath: path)).stateDict()
    let model = try makeModel()
    try model.loadStateDict(state, origin: path)
    return try CheckpointManager(saveDir: out).save(
      step: 0, model: model.stateDict(), optimizer: StateDict(), state: CheckpointState(step: 0, configHash: configHash()))
  }
}
