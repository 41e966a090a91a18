import Foundation
import TMLIO
import TMLTensor

extension CheckpointManager {
  /// The checkpoint a run continues from, and the newer checkpoints set aside for it.
  public struct Resume {
    public let checkpoint: Checkpoint
    /// Checkpoints newer than a requested one, renamed `step_<M>.superseded-<unix time>`.
    public let setAside: [URL]
  }

  /// Where a run continues: the checkpoint `requested` names (`step_<N>`, `N`, or the
  /// path of a `step_<N>` folder of this save dir — the CLI's `--resume-from`), else the
  /// newest (`loadLatest`); nil when there is none.
  ///
  /// Checkpoints newer than a requested one belong to the abandoned continuation: they
  /// are renamed `step_<M>.superseded-<unix time>` — kept for the user to inspect or
  /// delete, but no longer picked as the newest or pruned — so the run's later saves and
  /// resumes follow the requested step.
  /// `rowShards`: model tensors to load as one shard's rows (`CheckpointManager.load`).
  public func resume(from requested: String?, rowShards: [String: RowShard] = [:]) throws -> Resume? {
    guard let requested else { return try loadLatest(rowShards: rowShards).map { Resume(checkpoint: $0, setAside: []) } }
    let name: String
    if requested.contains("/") {
      let url = URL(fileURLWithPath: requested).standardizedFileURL
      guard url.deletingLastPathComponent().path == directory.standardizedFileURL.path else {
        throw TensorError("--resume-from \(requested): not a checkpoint of this save dir (\(directory.path)); name one of its step_<N> folders, or start from another run's weights with initial_checkpoint_dir")
      }
      name = url.lastPathComponent
    } else {
      name = requested.hasPrefix("step_") ? requested : "step_\(requested)"
    }
    let all = steps()
    guard name.hasPrefix("step_"), let n = Int(name.dropFirst(5)), let match = all.first(where: { $0.step == n }) else {
      let have = all.isEmpty ? "there are none" : "the complete ones are " + all.map { "step_\($0.step)" }.joined(separator: ", ")
      throw TensorError("--resume-from \(requested): no checkpoint \(name) in \(directory.path); \(have)")
    }
    let checkpoint = try CheckpointManager.load(match.url, rowShards: rowShards)
    var setAside: [URL] = []
    let stamp = Int(Date().timeIntervalSince1970)
    for newer in all where newer.step > n {
      let target = directory.appendingPathComponent("step_\(newer.step).superseded-\(stamp)", isDirectory: true)
      do { try FileManager.default.moveItem(at: newer.url, to: target) } catch {
        throw TensorError("--resume-from \(requested): cannot set aside the newer \(newer.url.path) (\(FileError.reason(of: error))); move or delete it yourself")
      }
      setAside.append(target)
    }
    if !setAside.isEmpty { try CheckpointManager.fsync(directory) }
    return Resume(checkpoint: checkpoint, setAside: setAside)
  }
}
