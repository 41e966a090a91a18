import Foundation
import TMLData
import TMLDistributed

extension SkippedRecords {
  /// Every rank's skipped records merged (collective: all ranks call it at the same point).
  /// Each rank reads its own files, so the merged count is the job's; rank order decides
  /// nothing but the order of the sum. One all-gather-v of the rows as JSON.
  public func gathered(over comm: any Communicator) throws -> SkippedRecords {
    guard comm.isDistributed else { return self }
    let mine: [[String: Any]] = rows.map { ["path": $0.path, "count": $0.count, "error": $0.firstError, "position": $0.position] }
    let bytes = try JSONSerialization.data(withJSONObject: mine)
    var all = SkippedRecords()
    for (rank, part) in try comm.allGatherV(Array(bytes)).enumerated() {
      guard let list = try JSONSerialization.jsonObject(with: Data(part)) as? [[String: Any]] else {
        throw DistributedError("skipped records from rank \(rank) are not a JSON list")
      }
      all.merge(SkippedRecords(rows: list.compactMap { o in
        guard let path = o["path"] as? String, let count = o["count"] as? Int, let error = o["error"] as? String,
              let position = o["position"] as? Int else { return nil }
        return (path, count, error, position)
      }))
    }
    return all
  }
}
