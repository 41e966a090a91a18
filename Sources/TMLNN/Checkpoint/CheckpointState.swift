import Foundation

/// Training state saved beside the tensors in `state.json`:
///
///     {"step": 100, "rngStates": {"negatives": [4 words]}, "dataPosition": {"train_batches": 100},
///      "configHash": "…", "format": 2, "crc32c": {"model.safetensors": "1a2b3c4d", "optimizer.safetensors": "…"}}
///
/// Format 2 added `crc32c`: the CRC-32C of each tensor file, verified on load. Format 1
/// checkpoints (no checksums) still load, unverified. Format 3 (written only by sharded
/// runs under mpirun) adds `shards`, the manifest of the ranks' row shards
/// (`CheckpointShardManifest`); unsharded checkpoints are still written as format 2.
/// state.json's own CRC-32C is in `state.json.crc32c` beside it (verified when present), so
/// a damaged state.json — the file that vouches for the others — is caught too.
public struct CheckpointState: Codable, Equatable, Sendable {
  /// The format this version writes; a higher one on load is from a newer SwiftTML.
  public static let currentFormat = 3
  /// The format of checkpoints without shards.
  public static let unshardedFormat = 2

  public var step: Int
  /// Random streams by owner name (xoshiro256** words) so a resumed run continues them.
  public var rngStates: [String: [UInt64]]
  /// Position in each data stream (records consumed), by stream name.
  public var dataPosition: [String: Int]
  /// Hash of the run's config, to warn when resuming with a different one.
  public var configHash: String
  public var format: Int
  /// CRC-32C of each file of the checkpoint as 8 lowercase hex digits, by file name
  /// (filled in by `CheckpointManager.save`; nil in format 1).
  public var crc32c: [String: String]?
  /// The row shards of a checkpoint written by several ranks (format 3), else nil.
  public var shards: CheckpointShardManifest?

  public init(step: Int, rngStates: [String: [UInt64]] = [:], dataPosition: [String: Int] = [:], configHash: String = "") {
    self.step = step
    self.rngStates = rngStates
    self.dataPosition = dataPosition
    self.configHash = configHash
    self.format = CheckpointState.unshardedFormat
  }

  /// `value` as state.json records it.
  /// The file beside state.json holding state.json's CRC-32C (8 hex digits).
  public static let checksumFile = "state.json.crc32c"

  static func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
  }
}
