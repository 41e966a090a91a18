import Foundation
import TMLIO
import TMLTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Training state saved beside the tensors in `state.json`.
public struct CheckpointState: Codable, Equatable, Sendable {
  public var step: Int
  /// Random streams by owner name (xoshiro256** words) so a resumed run continues them.
  public var rngStates: [String: [UInt64]]
  /// Position in each data stream (records consumed), by stream name.
  public var dataPosition: [String: Int]
  /// Hash of the run's config, to warn when resuming with a different one.
  public var configHash: String
  public var format: Int

  public init(step: Int, rngStates: [String: [UInt64]] = [:], dataPosition: [String: Int] = [:], configHash: String = "") {
    self.step = step
    self.rngStates = rngStates
    self.dataPosition = dataPosition
    self.configHash = configHash
    self.format = 1
  }
}

/// One loaded checkpoint.
public struct Checkpoint {
  public let directory: URL
  public let state: CheckpointState
  public let model: StateDict
  public let optimizer: StateDict
}

/// Checkpoints as directories `save_dir/checkpoints/step_<N>/` holding
/// `model.safetensors`, `optimizer.safetensors` and `state.json`.
///
/// A save writes everything into a hidden temporary directory, fsyncs the files and
/// the directory, then renames it to `step_<N>` and fsyncs the parent: a crash leaves
/// either the complete checkpoint or none (stale temporaries are ignored and removed).
/// After a save only the newest `maxToKeep` checkpoints remain.
///
///     let manager = CheckpointManager(saveDir: url, maxToKeep: 3)
///     try manager.save(step: 100, model: model.stateDict(), optimizer: opt.stateDict(), state: .init(step: 100))
///     if let last = try manager.loadLatest() { try model.loadStateDict(last.model) }
public struct CheckpointManager {
  public let directory: URL
  public let maxToKeep: Int?

  public init(saveDir: URL, maxToKeep: Int? = nil) {
    directory = saveDir.appendingPathComponent("checkpoints", isDirectory: true)
    self.maxToKeep = maxToKeep
  }

  /// Completed checkpoints by step, ascending.
  public func steps() -> [(step: Int, url: URL)] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.compactMap { name -> (Int, URL)? in
      guard name.hasPrefix("step_"), let n = Int(name.dropFirst(5)) else { return nil }
      let url = directory.appendingPathComponent(name, isDirectory: true)
      guard FileManager.default.fileExists(atPath: url.appendingPathComponent("state.json").path) else { return nil }
      return (n, url)
    }.sorted { $0.0 < $1.0 }
  }

  @discardableResult
  public func save(step: Int, model: StateDict, optimizer: StateDict, state: CheckpointState,
                   modelDType: StateDType = .f32) throws -> URL {
    let fm = FileManager.default
    do {
      try fm.createDirectory(at: directory, withIntermediateDirectories: true)
      for name in try fm.contentsOfDirectory(atPath: directory.path) where name.hasPrefix(".tmp-") {
        try? fm.removeItem(at: directory.appendingPathComponent(name))
      }
      let tmp = directory.appendingPathComponent(".tmp-step_\(step)-\(UUID().uuidString)", isDirectory: true)
      try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
      var modelWriter = SafetensorsWriter(metadata: ["format": "pt", "step": String(step)])
      for (n, e) in model.entries {
        modelWriter.add(n, e.tensor, dtype: e.dtype == .f32 ? modelDType : e.dtype)
      }
      var optWriter = SafetensorsWriter(metadata: ["step": String(step)])
      optWriter.add(optimizer)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      let files: [(String, Data)] = [
        ("model.safetensors", modelWriter.encoded()),
        ("optimizer.safetensors", optWriter.encoded()),
        ("state.json", try encoder.encode(state)),
      ]
      for (name, data) in files {
        let url = tmp.appendingPathComponent(name)
        try data.write(to: url)
        try CheckpointManager.fsync(url)
      }
      try CheckpointManager.fsync(tmp)
      let final = directory.appendingPathComponent("step_\(step)", isDirectory: true)
      if fm.fileExists(atPath: final.path) { try fm.removeItem(at: final) }
      try fm.moveItem(at: tmp, to: final)
      try CheckpointManager.fsync(directory)
      try prune()
      return final
    } catch let e as TensorError {
      throw e
    } catch {
      throw TensorError("checkpoint: cannot save step \(step) under \(directory.path): \(FileError.message(error)); check free disk space and permissions")
    }
  }

  /// Removes all but the newest `maxToKeep` checkpoints.
  public func prune() throws {
    guard let keep = maxToKeep, keep > 0 else { return }
    let all = steps()
    for (_, url) in all.dropLast(keep) { try FileManager.default.removeItem(at: url) }
  }

  /// The newest complete checkpoint, or nil when there is none.
  public func loadLatest() throws -> Checkpoint? {
    guard let last = steps().last else { return nil }
    return try CheckpointManager.load(last.url)
  }

  /// Loads the checkpoint in `dir` (a `step_<N>` directory).
  public static func load(_ dir: URL) throws -> Checkpoint {
    let stateURL = dir.appendingPathComponent("state.json")
    guard let data = try? Data(contentsOf: stateURL) else {
      throw TensorError("checkpoint: \(dir.path) has no readable state.json; point at a step_<N> directory written by SwiftTML")
    }
    let state: CheckpointState
    do { state = try JSONDecoder().decode(CheckpointState.self, from: data) } catch {
      throw TensorError("checkpoint: \(stateURL.path) is not a valid checkpoint state: \(error)")
    }
    let model = try SafetensorsFile(contentsOf: dir.appendingPathComponent("model.safetensors")).stateDict()
    let opt = try SafetensorsFile(contentsOf: dir.appendingPathComponent("optimizer.safetensors")).stateDict()
    return Checkpoint(directory: dir, state: state, model: model, optimizer: opt)
  }

  static func fsync(_ url: URL) throws {
    let fd = open(url.path, O_RDONLY)
    guard fd >= 0 else { throw TensorError("checkpoint: cannot open \(url.path) to sync it (errno \(errno))") }
    defer { close(fd) }
    #if canImport(Glibc)
    _ = Glibc.fsync(fd)
    #else
    _ = Darwin.fsync(fd)
    #endif
  }
}
