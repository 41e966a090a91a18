import Foundation
import TMLIO
import TMLTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One loaded checkpoint.
public struct Checkpoint {
  public let directory: URL
  public let state: CheckpointState
  public let model: StateDict
  public let optimizer: StateDict
}

/// Checkpoints as directories `save_dir/checkpoints/step_<N>/` holding
/// `model.safetensors`, `optimizer.safetensors` and `state.json` (`CheckpointState`,
/// with the CRC-32C of both tensor files).
///
/// A save writes everything into a hidden temporary directory, fsyncs the files and
/// the directory, then renames it to `step_<N>` and fsyncs the parent: a crash leaves
/// either the complete checkpoint or none (stale temporaries are ignored and removed).
/// After a save only the newest `maxToKeep` checkpoints remain. A load verifies the
/// checksums and that `state.json`'s step is the folder's; a damaged newest checkpoint
/// is an error naming it and the older intact step to resume from instead.
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

  /// The files the ranks of a sharded save have written into `directory` (from
  /// `temporaryDirectory(step:)`), with the manifest and each file's CRC-32C.
  public struct WrittenShards {
    public var directory: URL
    public var manifest: CheckpointShardManifest
    public var crc32c: [String: String]
    public init(directory: URL, manifest: CheckpointShardManifest, crc32c: [String: String]) {
      self.directory = directory
      self.manifest = manifest
      self.crc32c = crc32c
    }
  }

  /// A new hidden temporary directory for the save of `step`, after removing stale ones:
  /// the ranks of a sharded save write their shards into it (`writeShard`), then rank 0
  /// calls `save(… shards:)`, which completes and renames it.
  public func temporaryDirectory(step: Int) throws -> URL {
    let fm = FileManager.default
    do {
      try fm.createDirectory(at: directory, withIntermediateDirectories: true)
      try recoverInterruptedReplacements()
      for name in try fm.contentsOfDirectory(atPath: directory.path) where name.hasPrefix(".tmp-") {
        try? fm.removeItem(at: directory.appendingPathComponent(name))
      }
      let tmp = directory.appendingPathComponent(".tmp-step_\(step)-\(UUID().uuidString)", isDirectory: true)
      try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
      return tmp
    } catch let e as TensorError {
      throw e
    } catch {
      throw TensorError("checkpoint: cannot create a folder for step \(step) under \(directory.path): \(FileError.message(error)); check free disk space and permissions")
    }
  }

  /// Writes checkpoint `step`: `model` and `optimizer` (the replicated tensors when
  /// `shards` is given) into a temporary directory, `state.json` with every file's
  /// CRC-32C (and the shard manifest), `state.json.crc32c` with state.json's own, then
  /// renames it to `step_<N>`.
  @discardableResult
  public func save(step: Int, model: StateDict, optimizer: StateDict, state: CheckpointState,
                   modelDType: StateDType = .f32, shards: WrittenShards? = nil) throws -> URL {
    // Loading refuses non-finite optimizer state (Optimizer.loadStateDict), so it is never
    // saved either: a diverged run stops here instead of writing a checkpoint no run resumes.
    if let bad = NonFiniteValue.first(in: optimizer, kind: .state) {
      throw TensorError("checkpoint: not saving step \(step): \(bad) after the optimizer step; training stopped. Lower the learning rate, check the data for extreme values, and resume from the last good checkpoint")
    }
    let fm = FileManager.default
    do {
      let tmp = try shards?.directory ?? temporaryDirectory(step: step)
      var modelWriter = SafetensorsWriter(metadata: ["format": "pt", "step": String(step)])
      for (n, e) in model.entries {
        modelWriter.add(n, e.tensor, dtype: e.dtype == .f32 ? modelDType : e.dtype)
      }
      var optWriter = SafetensorsWriter(metadata: ["step": String(step)])
      optWriter.add(optimizer)
      let tensors: [(String, Data)] = [("model.safetensors", modelWriter.encoded()), ("optimizer.safetensors", optWriter.encoded())]
      var state = state
      state.format = shards == nil ? CheckpointState.unshardedFormat : CheckpointState.currentFormat
      state.shards = shards?.manifest
      state.crc32c = Dictionary(uniqueKeysWithValues: tensors.map { ($0.0, CheckpointState.hex($0.1.withUnsafeBytes { CRC32C.checksum($0) })) })
        .merging(shards?.crc32c ?? [:]) { a, _ in a }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      let stateJSON = try encoder.encode(state)
      let stateCRC = Data(CheckpointState.hex(stateJSON.withUnsafeBytes { CRC32C.checksum($0) }).utf8)
      let files = tensors + [("state.json", stateJSON), (CheckpointState.checksumFile, stateCRC)]
      for (name, data) in files {
        let url = tmp.appendingPathComponent(name)
        try data.write(to: url)
        try CheckpointManager.fsync(url)
      }
      try CheckpointManager.fsync(tmp)
      let final = directory.appendingPathComponent("step_\(step)", isDirectory: true)
      // Replacing a step: the old folder is renamed aside first; a kill before the new one
      // is in place leaves it as `.tmp-replaced-step_<N>-…`, which the next load or save
      // renames back (`recoverInterruptedReplacements`).
      var replaced: URL?
      if fm.fileExists(atPath: final.path) {
        replaced = directory.appendingPathComponent(".tmp-replaced-step_\(step)-\(UUID().uuidString)", isDirectory: true)
        try fm.moveItem(at: final, to: replaced!)
      }
      try fm.moveItem(at: tmp, to: final)
      try CheckpointManager.fsync(directory)
      if let replaced { try? fm.removeItem(at: replaced) }
      try prune()
      return final
    } catch let e as TensorError {
      throw e
    } catch {
      throw TensorError("checkpoint: cannot save step \(step) under \(directory.path): \(FileError.message(error)); check free disk space and permissions")
    }
  }

  /// Removes all but the newest `maxToKeep` checkpoints, and `step_<N>` folders without a
  /// `state.json` (what an older version left when killed while pruning).
  public func prune() throws {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    for name in names where name.hasPrefix("step_") && Int(name.dropFirst(5)) != nil {
      let url = directory.appendingPathComponent(name, isDirectory: true)
      if !FileManager.default.fileExists(atPath: url.appendingPathComponent("state.json").path) { try discard(url) }
    }
    guard let keep = maxToKeep, keep > 0 else { return }
    for (_, url) in steps().dropLast(keep) { try discard(url) }
  }

  /// Deletes a checkpoint folder without ever leaving a partial `step_<N>` behind: it is
  /// first renamed (atomically) to a `.tmp-` name, which a kill may leave but the next save
  /// removes, and only then deleted file by file.
  func discard(_ url: URL) throws {
    let doomed = directory.appendingPathComponent(".tmp-discard-\(url.lastPathComponent)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.moveItem(at: url, to: doomed)
    try? FileManager.default.removeItem(at: doomed)
  }

  /// The newest complete checkpoint, or nil when there is none. When the newest cannot
  /// be loaded (damaged, truncated, or its step is not its folder's), the error names it
  /// and the newest older checkpoint that loads, to resume from or delete the damaged one.
  /// `rowShards`: model tensors to load as one shard's rows (`load`).
  public func loadLatest(rowShards: [String: RowShard] = [:]) throws -> Checkpoint? {
    try recoverInterruptedReplacements()
    let all = steps()
    guard let last = all.last else { return nil }
    do { return try CheckpointManager.load(last.url, rowShards: rowShards) } catch {
      let older = all.dropLast().reversed().first { (try? CheckpointManager.load($0.url, rowShards: rowShards)) != nil }
      let what = older.map { "The older checkpoint step_\($0.step) is intact: resume from it with --resume-from step_\($0.step) (newer checkpoints are then set aside), or delete \(last.url.path) to resume from it automatically" }
        ?? "No older checkpoint under \(directory.path) is intact: delete \(last.url.path) to start again"
      let reason = "\(error)".hasPrefix("checkpoint: ") ? String("\(error)".dropFirst(12)) : "\(error)"
      throw TensorError("checkpoint: the newest checkpoint step_\(last.step) cannot be loaded: \(reason). \(what).")
    }
  }

  /// Loads the checkpoint in `dir` (a `step_<N>` directory), verifying each tensor
  /// file's CRC-32C recorded in `state.json` (format 2; format 1 has none) and that the
  /// step it records is the folder's N. Model tensors named in `rowShards` come back as
  /// only that shard's rows (read from whichever files hold them), so a rank of a
  /// row-sharded run never holds a whole table; everything else comes back whole.
  public static func load(_ dir: URL, rowShards: [String: RowShard] = [:]) throws -> Checkpoint {
    let stateURL = dir.appendingPathComponent("state.json")
    guard let data = try? Data(contentsOf: stateURL) else {
      throw TensorError("checkpoint: \(dir.path) has no readable state.json; point at a step_<N> directory written by SwiftTML")
    }
    // state.json's own checksum (checkpoints written before it existed have none).
    if let recorded = try? String(contentsOf: dir.appendingPathComponent(CheckpointState.checksumFile), encoding: .utf8) {
      let actual = CheckpointState.hex(data.withUnsafeBytes { CRC32C.checksum($0) })
      let expected = recorded.trimmingCharacters(in: .whitespacesAndNewlines)
      guard actual == expected else {
        throw TensorError("checkpoint: \(stateURL.path) is damaged: its CRC-32C is \(actual) but \(CheckpointState.checksumFile) records \(expected)")
      }
    }
    let state: CheckpointState
    do { state = try JSONDecoder().decode(CheckpointState.self, from: data) } catch {
      throw TensorError("checkpoint: \(stateURL.path) is not a valid checkpoint state: \(error)")
    }
    guard state.format <= CheckpointState.currentFormat else {
      throw TensorError("checkpoint: \(stateURL.path) has format \(state.format), newer than the \(CheckpointState.currentFormat) this SwiftTML reads; update SwiftTML")
    }
    let name = dir.lastPathComponent
    if name.hasPrefix("step_"), let n = Int(name.dropFirst(5)), n != state.step {
      throw TensorError("checkpoint: \(stateURL.path) records step \(state.step) but its folder is \(name); the folder was renamed or the file copied from another checkpoint — rename the folder to step_\(state.step) or delete it")
    }
    func tensors(_ file: String, keepingRows shards: [String: RowShard] = [:]) throws -> StateDict {
      let url = dir.appendingPathComponent(file)
      let bytes: Data
      do { bytes = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
        throw TensorError("checkpoint: cannot read \(url.path) (\(FileError.reason(of: error))); the checkpoint is incomplete")
      }
      if let recorded = state.crc32c {
        guard let expected = recorded[file] else {
          throw TensorError("checkpoint: \(stateURL.path) records no CRC-32C for \(file); the checkpoint is damaged")
        }
        let actual = CheckpointState.hex(bytes.withUnsafeBytes { CRC32C.checksum($0) })
        guard actual == expected else {
          throw TensorError("checkpoint: \(url.path) is damaged: its CRC-32C is \(actual) but state.json records \(expected)")
        }
      }
      let file = try SafetensorsFile(data: bytes, source: url.path)
      let partial = shards.filter { file.entries[$0.key] != nil }
      var dict = try file.stateDict(excluding: Set(partial.keys))
      for (name, shard) in partial {
        if let rows = file.entries[name]?.shape.first { try shard.requireRows(rows, of: name, in: url.path) }
        dict[name] = .init(try file.tensor(name, rows: (0..<shard.localRows).map(shard.globalRow)), dtype: file.entries[name]!.dtype)
      }
      return dict
    }
    var model = try tensors("model.safetensors", keepingRows: rowShards), optimizer = try tensors("optimizer.safetensors")
    if let manifest = state.shards {
      try assembleShards(manifest, in: dir, state: state, model: &model, optimizer: &optimizer, rowShards: rowShards)
    }
    return Checkpoint(directory: dir, state: state, model: model, optimizer: optimizer)
  }

  /// Renames `.tmp-replaced-step_<N>-…` back to `step_<N>` where a kill stopped a save
  /// between setting the old checkpoint aside and moving the new one in.
  func recoverInterruptedReplacements() throws {
    let fm = FileManager.default
    let prefix = ".tmp-replaced-step_"
    for name in (try? fm.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasPrefix(prefix) {
      guard let step = Int(name.dropFirst(prefix.count).prefix { $0 != "-" }) else { continue }
      let final = directory.appendingPathComponent("step_\(step)", isDirectory: true)
      if !fm.fileExists(atPath: final.path) {
        do { try fm.moveItem(at: directory.appendingPathComponent(name), to: final) } catch {
          throw TensorError("checkpoint: cannot restore \(final.path) from \(name): \(FileError.message(error)); rename it by hand")
        }
      }
    }
  }

  /// fsync of a file or directory; a failure (EIO, or ENOSPC on network file systems) is an
  /// error naming the path, since the checkpoint may not be on disk.
  static func fsync(_ url: URL) throws {
    let fd = open(url.path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw TensorError("checkpoint: cannot open \(url.path) to sync it: \(FileError(path: url.path, errno: errno).reason)") }
    defer { close(fd) }
    #if canImport(Glibc)
    let result = Glibc.fsync(fd)
    #else
    let result = Darwin.fsync(fd)
    #endif
    // EINVAL: the file system does not sync this kind of file (some do not sync directories).
    if result != 0 && errno != EINVAL { throw TensorError("checkpoint: cannot sync \(url.path): \(FileError(path: url.path, errno: errno).reason)") }
  }
}
