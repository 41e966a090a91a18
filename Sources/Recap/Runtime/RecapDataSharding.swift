import Foundation
import TMLData
import TMLDistributed

/// How a data-parallel ranker job splits a dataset over its ranks: rank r of N reads the
/// files at positions r, r + N, r + 2N, … of the sorted file list (whole files, never
/// shared) and builds batches of `global_batch_size / N` rows, so each optimizer step sees
/// `global_batch_size` rows in all (the original's meaning of the key).
///
/// Refused, on every rank, with the key and what to do: a `global_batch_size` that N does
/// not divide; for training, fewer files than ranks (a rank would have no data); ranks
/// that see different file lists (the files must be on a shared file system or copied
/// to every machine).
///
///     let shard = try RecapDataSharding.shard(files, batchSize: 128, name: "train_data", inputs: glob, training: true, communicator: comm)
public enum RecapDataSharding {
  public struct Shard: Equatable {
    public var files: [String]
    public var batchSize: Int
  }

  public static func shard(_ files: [String], batchSize: Int, name: String, inputs: String, training: Bool,
                           communicator comm: any Communicator) throws -> Shard {
    let n = comm.worldSize
    guard n > 1 else { return Shard(files: files, batchSize: batchSize) }
    func count(_ k: Int) -> String { k == 1 ? "1 file" : "\(k) files" }
    // Every rank must see rank 0's file list.
    let listed = Array(files.joined(separator: "\n").utf8)
    let all = try comm.allGatherV(listed)
    for (r, other) in all.enumerated() where other != all[0] {
      let theirs = String(decoding: other, as: UTF8.self).split(separator: "\n")
      let missing = files.filter { !theirs.contains(Substring($0)) }
      let detail = missing.first.map { "; \($0) is missing there" } ?? ""
      let ours = String(decoding: all[0], as: UTF8.self).split(separator: "\n").count
      throw DistributedError("\(name).inputs '\(inputs)': rank \(r) sees \(count(theirs.count)), rank 0 sees \(count(ours))\(detail). Every rank needs the same input files (a shared file system, or the same copy on every machine)")
    }
    guard batchSize % n == 0 else {
      throw DistributedError("\(name).global_batch_size \(batchSize) is not divisible by the \(n) ranks; each rank takes global_batch_size / ranks rows. Use a multiple of \(n)")
    }
    if training && files.count < n {
      throw DistributedError("\(name).inputs '\(inputs)' has \(files.count) file\(files.count == 1 ? "" : "s") but the job has \(n) ranks, and each rank reads whole files: rank \(files.count) would have no data. Split the data into at least \(n) files (tml recap generate-data writes 4) or run at most \(files.count) ranks")
    }
    return Shard(files: try FileGlob.shard(files, rank: comm.rank, worldSize: n), batchSize: batchSize / n)
  }
}
