import Foundation
import TMLIO
import TMLTensor

/// The row shards of a checkpoint written by the N ranks of an MPI job, recorded in its
/// `state.json` (format 3). Each sharded tensor — a table's rows and its row-wise
/// optimizer state — is split **round-robin**: whole row g is local row ⌊g / N⌋ of
/// rank g mod N. Rank k writes its rows of every sharded tensor to `files[k]`
/// (`shard-<k>-of-<N>.safetensors`, names prefixed `model/` or `optimizer/`); rank 0
/// writes the replicated rest to `model.safetensors` / `optimizer.safetensors`, the
/// manifest and every file's CRC-32C into `state.json`, and renames the folder into
/// place last, so a killed job never leaves a manifest pointing at missing shards.
///
///     step_100/state.json                       {"format": 3, "shards": {"worldSize": 2, …}, "crc32c": {…}}
///     step_100/model.safetensors                replicated tensors (translations, dense layers)
///     step_100/optimizer.safetensors            their optimizer state, the step
///     step_100/shard-0-of-2.safetensors         model/<table> rows 0, 2, 4, …; optimizer/<table>.<state> rows
///     step_100/shard-1-of-2.safetensors         rows 1, 3, 5, …
///
/// `CheckpointManager.load` reassembles the whole tensors, so every reader (any world size,
/// one process, `tml twhin eval|export|neighbors`) sees an ordinary checkpoint.
public struct CheckpointShardManifest: Codable, Equatable, Sendable {
  public var worldSize: Int
  /// Always "round_robin".
  public var layout: String
  /// Each rank's shard file, in rank order.
  public var files: [String]
  /// Whole row count of each sharded tensor, by its prefixed name (`model/…`, `optimizer/…`).
  public var rows: [String: Int]

  public init(worldSize: Int, rows: [String: Int]) {
    self.worldSize = worldSize
    layout = "round_robin"
    files = (0..<worldSize).map { CheckpointShardManifest.fileName(rank: $0, worldSize: worldSize) }
    self.rows = rows
  }

  public static func fileName(rank: Int, worldSize: Int) -> String { "shard-\(rank)-of-\(worldSize).safetensors" }

  /// Rows of an n-row tensor in rank k's shard.
  public func localRows(_ n: Int, rank k: Int) -> Int { RowShard.localRows(n, rank: k, worldSize: worldSize) }
}

extension CheckpointManager {
  /// Writes one rank's shard file (`model/` + name for `model`, `optimizer/` + name for
  /// `optimizer`, this rank's rows only) and fsyncs it; returns its CRC-32C as state.json
  /// records it. Rank 0 then passes every rank's checksum to `save(… shards:)`.
  public static func writeShard(model: StateDict, optimizer: StateDict, to url: URL) throws -> String {
    var writer = SafetensorsWriter(metadata: ["format": "pt"])
    for (n, e) in model.entries { writer.add("model/" + n, e.tensor, dtype: e.dtype) }
    for (n, e) in optimizer.entries { writer.add("optimizer/" + n, e.tensor, dtype: e.dtype) }
    let data = writer.encoded()
    do {
      try data.write(to: url)
      try fsync(url)
    } catch {
      throw TensorError("checkpoint: cannot write the shard \(url.path): \(FileError.message(error)); check free disk space and permissions")
    }
    return CheckpointState.hex(data.withUnsafeBytes { CRC32C.checksum($0) })
  }

  /// Puts the sharded tensors of a format-3 checkpoint back together: each `model/` and
  /// `optimizer/` tensor of the manifest, rows interleaved round-robin from every shard
  /// (each file's CRC-32C verified), added to `model` and `optimizer` — whole, or for a
  /// model tensor named in `rowShards` only that shard's rows (global row g is row ⌊g / N⌋
  /// of file g mod N), read from the mapped files without assembling the rest.
  static func assembleShards(_ manifest: CheckpointShardManifest, in dir: URL, state: CheckpointState,
                             model: inout StateDict, optimizer: inout StateDict, rowShards: [String: RowShard] = [:]) throws {
    let n = manifest.worldSize
    guard manifest.layout == "round_robin", manifest.files.count == n, n >= 1 else {
      throw TensorError("checkpoint: \(dir.path)/state.json has a shard manifest this SwiftTML cannot read (layout \(manifest.layout), \(manifest.files.count) files for world size \(n))")
    }
    var files: [SafetensorsFile] = []
    for (rank, file) in manifest.files.enumerated() {
      let url = dir.appendingPathComponent(file)
      guard let bytes = try? Data(contentsOf: url, options: .mappedIfSafe) else {
        throw TensorError("checkpoint: the shard of rank \(rank), \(url.path), is missing or unreadable; the checkpoint was written by \(n) ranks and needs all \(n) shard files")
      }
      if let expected = state.crc32c?[file] {
        let actual = CheckpointState.hex(bytes.withUnsafeBytes { CRC32C.checksum($0) })
        guard actual == expected else {
          throw TensorError("checkpoint: the shard \(url.path) is damaged: its CRC-32C is \(actual) but state.json records \(expected)")
        }
      }
      let f = try SafetensorsFile(data: bytes, source: url.path)
      if let stray = f.names.first(where: { manifest.rows[$0] == nil }) {
        throw TensorError("checkpoint: \(url.path) holds \(stray), which the manifest in state.json does not list")
      }
      files.append(f)
    }
    for (name, rows) in manifest.rows.sorted(by: { $0.key < $1.key }) {
      guard let template = files.compactMap({ $0.entries[name] }).first else {
        throw TensorError("checkpoint: no shard of \(dir.path) holds \(name)")
      }
      let inner = Array(template.shape.dropFirst()), width = inner.reduce(1, *)
      for rank in 0..<n {
        let want = manifest.localRows(rows, rank: rank)
        guard let e = files[rank].entries[name] else {
          if want == 0 { continue }
          throw TensorError("checkpoint: the shard of rank \(rank) (\(manifest.files[rank])) has no \(name); expected \(want) rows")
        }
        guard e.shape.first == want, Array(e.shape.dropFirst()) == inner else {
          throw TensorError("checkpoint: \(name) in \(manifest.files[rank]) has shape \(e.shape); expected [\(want)] + \(inner)")
        }
      }
      // The global rows wanted (all, or one shard's), fetched per source file.
      let local = name.hasPrefix("model/") ? rowShards[String(name.dropFirst(6))] : nil
      try local?.requireRows(rows, of: String(name.dropFirst(6)), in: dir.path)
      let wanted = local.map { s in (0..<s.localRows).map(s.globalRow) } ?? Array(0..<rows)
      if let bad = wanted.first(where: { $0 >= rows }) {
        throw TensorError("checkpoint: \(name) has \(rows) rows in \(dir.path) but the model's shard needs row \(bad); load it into a model of the same size")
      }
      var values = [Float](repeating: 0, count: wanted.count * width)
      for rank in 0..<n {
        let mine = wanted.indices.filter { wanted[$0] % n == rank }
        guard !mine.isEmpty else { continue }
        let part = try files[rank].tensor(name, rows: mine.map { wanted[$0] / n })
        part.withUnsafeBufferPointer { p in
          for (k, at) in mine.enumerated() { for j in 0..<width { values[at * width + j] = p[k * width + j] } }
        }
      }
      let entry = StateDict.Entry(try Tensor(shape: [wanted.count] + inner, scalars: values), dtype: template.dtype)
      if name.hasPrefix("model/") { model[String(name.dropFirst(6))] = entry } else if name.hasPrefix("optimizer/") {
        optimizer[String(name.dropFirst(10))] = entry
      } else {
        throw TensorError("checkpoint: the manifest lists \(name), neither model/ nor optimizer/")
      }
    }
  }
}
