import XCTest
import TMLDistributed
import TMLNN
import TMLTensor
@testable import TMLTrain

/// `RowShardedEmbeddingBag` against `EmbeddingBag` (one rank: the whole table, so the two
/// must agree exactly), `RowShard` slicing and loading, and the fused optimizer's step
/// count in checkpoints. Two ranks are checked end to end in RecapTests
/// (DataParallelRecapTests, under mpirun).
final class RowShardedEmbeddingBagTests: XCTestCase {
  let rows = 9, dim = 3
  let ids = [4, 0, 4, 8, 2, 2, 7], offsets = [0, 2, 2, 5]

  func value(_ row: Int, _ j: Int) -> Float { Float(row) * 0.1 - Float(j) * 0.07 + 0.01 }

  func pair() throws -> (EmbeddingBag, RowShardedEmbeddingBag) {
    let whole = try Tensor(shape: [rows, dim], scalars: (0..<rows * dim).map { value($0 / dim, $0 % dim) })
    let sharded = RowShardedEmbeddingBag(rows: rows, dim: dim, communicator: SingleProcessCommunicator()) { row, out in
      for j in out.indices { out[j] = self.value(row, j) }
    }
    return (EmbeddingBag(weight: whole, mode: .sum), sharded)
  }

  func testPoolingAndTheFusedSGDStepEqualTheWholeTable() throws {
    let (bag, sharded) = try pair()
    bag.fuse(SparseSGD(learningRate: .constant(0.5)))
    sharded.fuse(SparseSGD(learningRate: .constant(0.5)))
    let a = try bag(indices: IndexTensor(ids), offsets: IndexTensor(offsets))
    let b = try sharded(ids: ids, offsets: offsets)
    XCTAssertEqual(b.shape, [4, dim])
    XCTAssertEqual(b.scalars, a.scalars, "sum pooling, an empty bag gives zeros")
    XCTAssertEqual(Array(b.scalars[3..<6]), [0, 0, 0])
    // A loss weighting every output differently: Σ c_kj · out_kj.
    let c = try Tensor(shape: [4, dim], scalars: (0..<4 * dim).map { Float($0) * 0.3 - 1 })
    try (a * c).sum().backward()
    try (b * c).sum().backward()
    XCTAssertEqual(sharded.weight.value.scalars, bag.weight.value.scalars)
    XCTAssertNotEqual(sharded.weight.value.scalars, try pair().1.weight.value.scalars, "the rows looked up moved")
    XCTAssertEqual(sharded.fusedOptimizer?.iteration, 1)
  }

  func testWithoutAFusedOptimizerTheRowGradientsAccumulate() throws {
    let (bag, sharded) = try pair()
    for _ in 0..<2 {
      try bag(indices: IndexTensor(ids), offsets: IndexTensor(offsets)).sum().backward()
      try sharded(ids: ids, offsets: offsets).sum().backward()
    }
    let g = try XCTUnwrap(sharded.sparseGradient)
    XCTAssertEqual(g.rows, [0, 2, 4, 7, 8])
    XCTAssertEqual(g.dense(numRows: rows).scalars, try XCTUnwrap(bag.sparseGradient).dense(numRows: rows).scalars)
    // Row 2 is used twice in bag 2 and row 7 (in the last bag) once, over two backward passes.
    XCTAssertEqual(Array(g.dense(numRows: rows).scalars[2 * dim..<3 * dim]), [4, 4, 4])
    XCTAssertEqual(Array(g.dense(numRows: rows).scalars[7 * dim..<8 * dim]), [2, 2, 2])
  }

  func testBadOffsetsAndIdsAreErrors() throws {
    let (_, sharded) = try pair()
    XCTAssertThrowsError(try sharded(ids: [1, 2], offsets: [0, 3])) { XCTAssertTrue("\($0)".contains("offsets must be ascending"), "\($0)") }
    XCTAssertThrowsError(try sharded(ids: [1, 9], offsets: [0])) { XCTAssertTrue("\($0)".contains("id 9 is outside 0..<9"), "\($0)") }
  }

  func testARowShardedParameterLoadsItsRowsOfTheWholeTensor() throws {
    let shard = RowShard(rank: 1, worldSize: 3, rows: 8)  // global rows 1, 4, 7
    XCTAssertEqual(shard.localRows, 3)
    XCTAssertEqual((0..<3).map(shard.globalRow), [1, 4, 7])
    XCTAssertEqual(RowShard(rank: 2, worldSize: 3, rows: 2).localRows, 0)
    final class Table: Module {
      var isTraining = true
      let weight: Parameter
      init(_ p: Parameter) { weight = p }
      var parameters: [(String, Parameter)] { [("weight", weight)] }
    }
    let p = Parameter(try Tensor.zeros(allocatingShape: [3, 2]))
    p.rowShard = shard
    let m = Table(p)
    var whole = StateDict()
    whole["weight"] = .init(try Tensor(shape: [8, 2], scalars: (0..<16).map { Float($0) }))
    try m.loadStateDict(whole)
    XCTAssertEqual(p.value.scalars, [2, 3, 8, 9, 14, 15])
    // Its checkpoint part is its own rows, with the whole row count.
    let split = ShardedCheckpoint.split(m)
    XCTAssertEqual(split.rows, ["model/weight": 8])
    XCTAssertEqual(split.sharded["weight"]?.tensor.scalars, [2, 3, 8, 9, 14, 15])
    XCTAssertTrue(split.replicated.names.isEmpty)
    // Rows already selected (a rank-local checkpoint load) are taken as they are.
    var local = StateDict()
    local["weight"] = .init(try Tensor(shape: [3, 2], scalars: [7, 7, 8, 8, 9, 9]))
    try m.loadStateDict(local)
    XCTAssertEqual(p.value.scalars, [7, 7, 8, 8, 9, 9])
    // A NaN in local row 2 (global row 7) is reported at its place in the whole table.
    p.value.withUnsafeMutableBufferPointer { $0[5] = .nan }
    let bad = try XCTUnwrap(m.firstNonFiniteState())
    XCTAssertEqual(bad.shape, [8, 2])
    XCTAssertEqual(bad.position, [7, 1])
    var wrong = StateDict()
    wrong["weight"] = .init(try Tensor.zeros(allocatingShape: [4, 2]))
    XCTAssertThrowsError(try m.loadStateDict(wrong)) { XCTAssertTrue("\($0)".contains("[8, 2]"), "the error names the whole shape: \($0)") }
  }

  func testTheFusedOptimizerStepCountRoundTripsThroughTheSavedState() throws {
    let (bag, _) = try pair()
    let sgd = SparseSGD(learningRate: .linearRampToConstant(learningRate: 1, rampSteps: 10))
    bag.fuse(sgd)
    for _ in 0..<3 { try bag(indices: IndexTensor(ids), offsets: IndexTensor(offsets)).sum().backward() }
    let saved = bag.fusedOptimizerSteps()
    XCTAssertEqual(saved, ["fused/": [3]])
    let (fresh, _) = try pair()
    let other = SparseSGD(learningRate: .linearRampToConstant(learningRate: 1, rampSteps: 10))
    fresh.fuse(other)
    try fresh.loadFusedOptimizerSteps(saved)
    XCTAssertEqual(other.iteration, 3, "a resumed table continues its learning-rate schedule")
    XCTAssertThrowsError(try fresh.loadFusedOptimizerSteps(["fused/": [1, 2]]))
  }
}
