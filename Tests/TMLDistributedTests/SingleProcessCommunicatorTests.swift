import XCTest
@testable import TMLDistributed

final class SingleProcessCommunicatorTests: XCTestCase {
  func testIsRankZeroOfOne() {
    let c = SingleProcessCommunicator()
    XCTAssertEqual(c.rank, 0)
    XCTAssertEqual(c.worldSize, 1)
    XCTAssertFalse(c.isDistributed)
  }

  func testEveryCollectiveMatchesItsDefinitionForOneRank() throws {
    let lines = try CollectiveCheck.run(SingleProcessCommunicator())
    XCTAssertEqual(lines.count, 10)
    XCTAssertTrue(lines.allSatisfy { $0.hasSuffix(": ok") })
  }

  func testARowShardedTableOfOneRankIsTheWholeTable() throws {
    XCTAssertEqual(try ShardedTableCheck.run(SingleProcessCommunicator()), "row-sharded table: ok")
    let t = RowShardedTable(rows: 5, dim: 2, communicator: SingleProcessCommunicator()) { i, row in row[0] = Float(i); row[1] = -Float(i) }
    XCTAssertEqual(try t.lookup([4, 0, 4]), [4, -4, 0, 0, 4, -4])
    try t.apply(ids: [1, 1], gradients: [1, 2, 3, 4]) { w, g in for j in 0..<w.count { w[j] -= g[j] } }
    XCTAssertEqual(try t.lookup([1]), [1 - 4, -1 - 6], "gradients of a repeated id are summed, the rule applied once")
    XCTAssertThrowsError(try t.lookup([5])) { XCTAssertTrue("\($0)".contains("id 5 is outside 0..<5"), "\($0)") }
  }

  func testRowsAreDealtRoundRobin() {
    XCTAssertEqual((0..<3).map { RowShardedTable.localRows(rows: 10, rank: $0, worldSize: 3) }, [4, 3, 3])
    XCTAssertEqual((0..<4).map { RowShardedTable.localRows(rows: 2, rank: $0, worldSize: 4) }, [1, 1, 0, 0])
  }

  func testAllReduceLeavesValuesAndAllToAllReturnsTheOwnBlock() throws {
    let c = SingleProcessCommunicator()
    var x: [Float] = [1.5, -2]
    try c.allReduce(&x, .sum)
    XCTAssertEqual(x, [1.5, -2])
    XCTAssertEqual(try c.allToAllV([[Int64(3), 4]]), [[3, 4]])
    XCTAssertEqual(try c.allGatherV([UInt8(9)]), [[9]])
  }

  func testWrongShapesAreErrors() {
    let c = SingleProcessCommunicator()
    XCTAssertThrowsError(try c.allToAllV([[Float(1)], [2]])) { XCTAssertTrue("\($0)".contains("2 send blocks")) }
    var x: [Float] = [1]
    XCTAssertThrowsError(try c.broadcast(&x, root: 1)) { XCTAssertTrue("\($0)".contains("root 1")) }
  }

  func testAgreeThrowsTheFailingRanksMessage() {
    let c = SingleProcessCommunicator()
    XCTAssertNoThrow(try c.agree(failed: nil))
    XCTAssertThrowsError(try c.agree(failed: "no input files")) { XCTAssertEqual("\($0)", "rank 0 of 1: no input files") }
  }

  func testLaunchIsDetectedFromOpenMPIOrPMIxVariables() {
    XCTAssertTrue(Distributed.launchedByMPI(["OMPI_COMM_WORLD_SIZE": "2"]))
    XCTAssertTrue(Distributed.launchedByMPI(["PMIX_RANK": "0"]))
    XCTAssertFalse(Distributed.launchedByMPI(["PATH": "/usr/bin"]))
  }

  func testWithoutMPIRunTheCommunicatorIsSingleProcess() throws {
    try XCTSkipIf(Distributed.launchedByMPI(), "this test process runs under mpirun")
    XCTAssertTrue(try Distributed.communicator() is SingleProcessCommunicator)
    XCTAssertNil(MPICommunicator.started, "MPI must not be initialised without mpirun")
  }
}

final class ThreadsPerRankTests: XCTestCase {
  func testTheCoresAreSharedAmongTheRanksOfAMachine() {
    XCTAssertEqual(Distributed.threadsPerRank(cores: 16, ["OMPI_COMM_WORLD_LOCAL_SIZE": "4"]), 4)
    XCTAssertEqual(Distributed.threadsPerRank(cores: 2, ["OMPI_COMM_WORLD_LOCAL_SIZE": "3"]), 1)
    XCTAssertEqual(Distributed.threadsPerRank(cores: 8, [:]), 8)
  }
}
