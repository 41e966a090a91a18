import Foundation
import TMLDistributed
import TMLNN

/// One sharded checkpoint save by every rank of an MPI job (format 3,
/// `CheckpointShardManifest`): rank 0 makes the hidden temporary folder, every rank writes
/// its rows of each sharded tensor into `shard-<k>-of-<N>.safetensors` there, and rank 0
/// writes the replicated tensors, `state.json` (manifest + every file's CRC-32C) and
/// renames the folder into place last — so a killed job never leaves a manifest pointing
/// at missing shards. A failure on any rank (full disk, permissions) stops every rank
/// with that rank's message, never a hang.
///
///     let url = try ShardedCheckpoint.save(communicator: comm, manager: m, step: 100,
///                                          replicated: (model, optimizer), sharded: (rows, rowState),
///                                          rows: ["model/t.weight": 1_000_000], state: { state })
public enum ShardedCheckpoint {
  /// Collective: every rank calls it with its shard. `rows` gives each sharded tensor's
  /// whole row count by prefixed name (`model/…`, `optimizer/…`); `state` is built on
  /// rank 0 only. Returns the checkpoint folder on rank 0, nil on the others.
  @discardableResult
  public static func save(communicator comm: any Communicator, manager: CheckpointManager, step: Int,
                          replicated: (model: StateDict, optimizer: StateDict),
                          sharded: (model: StateDict, optimizer: StateDict), rows: [String: Int],
                          modelDType: StateDType = .f32, state: () -> CheckpointState) throws -> URL? {
    let root = comm.rank == 0
    func attempt(_ body: () throws -> Void) -> String? {
      do { try body(); return nil } catch { return "\(error)" }
    }
    var tmp: URL? = nil
    try comm.agree(failed: root ? attempt { tmp = try manager.temporaryDirectory(step: step) } : nil)
    let name = try comm.allGatherV(Array((tmp?.lastPathComponent ?? "").utf8))[0]
    let folder = manager.directory.appendingPathComponent(String(decoding: name, as: UTF8.self), isDirectory: true)
    let file = CheckpointShardManifest.fileName(rank: comm.rank, worldSize: comm.worldSize)
    var crc = ""
    try comm.agree(failed: attempt {
      crc = try CheckpointManager.writeShard(model: sharded.model, optimizer: sharded.optimizer, to: folder.appendingPathComponent(file))
    })
    let checksums = try comm.allGatherV(Array(crc.utf8)).map { String(decoding: $0, as: UTF8.self) }
    var saved: URL? = nil
    try comm.agree(failed: root ? attempt {
      let manifest = CheckpointShardManifest(worldSize: comm.worldSize, rows: rows)
      saved = try manager.save(step: step, model: replicated.model, optimizer: replicated.optimizer, state: state(),
                               modelDType: modelDType,
                               shards: .init(directory: folder, manifest: manifest,
                                             crc32c: Dictionary(uniqueKeysWithValues: zip(manifest.files, checksums))))
    } : nil)
    return saved
  }

  /// `model`'s state split into this rank's rows of every row-sharded parameter
  /// (`Parameter.rowShard`) and the replicated rest, with the sharded tensors' whole row
  /// counts keyed `model/<name>`.
  public static func split(_ model: any Module) -> (sharded: StateDict, replicated: StateDict, rows: [String: Int]) {
    let shards = model.rowShards
    var sharded = StateDict(), replicated = StateDict(), rows: [String: Int] = [:]
    for (name, e) in model.stateDict().entries {
      if let s = shards[name] {
        rows["model/" + name] = s.rows
        if s.localRows > 0 { sharded[name] = e }
      } else {
        replicated[name] = e
      }
    }
    return (sharded, replicated, rows)
  }
}
