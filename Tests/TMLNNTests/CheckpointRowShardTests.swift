import Foundation
import TMLNN
import TMLTensor
import XCTest

/// Loading one shard's rows of a table from a checkpoint written by N ranks (format 3) or
/// by one process (format 2): the rows equal those of the whole table, whatever N and M.
final class CheckpointRowShardTests: XCTestCase {
  private var root: URL!
  let rows = 11, width = 3

  override func setUpWithError() throws { root = try makeTemporaryDirectory("checkpoint-row-shards") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

  var whole: Tensor { try! Tensor(shape: [rows, width], scalars: (0..<rows * width).map { Float($0) * 0.5 - 3 }) }  // rows·width values

  /// A checkpoint of `n` ranks: each writes rows r, r + n, … of table `t`; rank 0 also a replicated `bias`.
  func writeSharded(ranks n: Int, step: Int) throws -> URL {
    let manager = CheckpointManager(saveDir: root)
    let tmp = try manager.temporaryDirectory(step: step)
    var crcs: [String] = []
    for r in 0..<n {
      var part = StateDict()
      let shard = RowShard(rank: r, worldSize: n, rows: rows)
      if shard.localRows > 0 { part["t"] = .init(try shard.slice(whole)) }
      crcs.append(try CheckpointManager.writeShard(model: part, optimizer: StateDict(),
                                                   to: tmp.appendingPathComponent(CheckpointShardManifest.fileName(rank: r, worldSize: n))))
    }
    var replicated = StateDict()
    replicated["bias"] = .init(try Tensor(shape: [2], scalars: [1, 2]))
    let manifest = CheckpointShardManifest(worldSize: n, rows: ["model/t": rows])
    return try manager.save(step: step, model: replicated, optimizer: StateDict(), state: CheckpointState(step: step),
                            shards: .init(directory: tmp, manifest: manifest, crc32c: Dictionary(uniqueKeysWithValues: zip(manifest.files, crcs))))
  }

  func testEachRankOfMReadsItsRowsOfACheckpointOfNRanks() throws {
    for n in [1, 2, 3] {
      let dir = try writeSharded(ranks: n, step: n)
      XCTAssertEqual(try CheckpointManager.load(dir).model["t"]?.tensor.scalars, whole.scalars, "\(n) ranks: the whole table")
      for m in [1, 2, 3, 4] {
        for r in 0..<m {
          let shard = RowShard(rank: r, worldSize: m, rows: rows)
          let ckpt = try CheckpointManager.load(dir, rowShards: ["t": shard])
          XCTAssertEqual(ckpt.model["t"]?.tensor.shape, [shard.localRows, width])
          XCTAssertEqual(ckpt.model["t"]?.tensor.scalars, try shard.slice(whole).scalars, "written by \(n), rank \(r) of \(m)")
          XCTAssertEqual(ckpt.model["bias"]?.tensor.scalars, [1, 2])
        }
      }
    }
  }

  func testAnUnshardedCheckpointAlsoGivesOnlyTheShardsRows() throws {
    var model = StateDict()
    model["t"] = .init(whole)
    let dir = try CheckpointManager(saveDir: root).save(step: 1, model: model, optimizer: StateDict(), state: CheckpointState(step: 1))
    let shard = RowShard(rank: 2, worldSize: 4, rows: rows)
    XCTAssertEqual(try CheckpointManager.load(dir, rowShards: ["t": shard]).model["t"]?.tensor.scalars, try shard.slice(whole).scalars)
    // A model whose table has more or fewer rows than the checkpoint's: an error naming both.
    for rows in [40, 8] {
      XCTAssertThrowsError(try CheckpointManager.load(dir, rowShards: ["t": RowShard(rank: 0, worldSize: 2, rows: rows)])) {
        XCTAssertTrue("\($0)".contains("t has 11 rows in") && "\($0)".contains("the model's table has \(rows)"), "\($0)")
      }
    }
    let sharded = try writeSharded(ranks: 2, step: 2)
    XCTAssertThrowsError(try CheckpointManager.load(sharded, rowShards: ["t": RowShard(rank: 1, worldSize: 3, rows: 8)])) {
      XCTAssertTrue("\($0)".contains("t has 11 rows in") && "\($0)".contains("the model's table has 8"), "\($0)")
    }
  }
}
