import Foundation
import XCTest
@testable import TMLDistributed

/// `tml bench distributed` end to end (tiny: 1 step of 8 rows): 1 and 2 ranks run, the
/// 1-rank row moves nothing, and the 2-rank row's payload is the dense gradient all-reduce
/// plus the sharded id table's small exchanges. Speeds are not asserted (benchmarks, not tests).
final class BenchDistributedTests: XCTestCase {
  func testTheRankerTableReportsTheAllReduceAndTheIdTableExchanges() throws {
    try XCTSkipIf(MPILauncher.mpirun() == nil, "mpirun is not installed (bash scripts/install-deps.sh installs Open MPI)")
    try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: MPICollectiveTests.tml), "\(MPICollectiveTests.tml) is not built")
    let r = try MPILauncher.runSingle(program: MPICollectiveTests.tml, arguments: [
      "bench", "distributed", "--model", "recap", "--steps", "1", "--batch", "8", "--id-table-rows", "1000"], timeout: 300)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("a 1000-row 64-d large_embeddings table row-sharded over the ranks"), r.output)
    // "  ranks  examples/s  speed-up  ms/step  comm ms/step  comm MB/step  collectives/step"
    let rows = r.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { $0.count == 7 && Int($0[0]) != nil }
    XCTAssertEqual(rows.map { $0[0] }, ["1", "2"], r.output)
    // "  (48901796 dense parameters, 195.6 MB of fp32 gradients all-reduced per step)"
    let footer = r.output.components(separatedBy: "\n").first { $0.contains(" dense parameters") } ?? ""
    let count = footer.components(separatedBy: "(").last?.components(separatedBy: " ").first ?? ""
    guard rows.count == 2, let dense = Double(count) else { return XCTFail(r.output) }
    XCTAssertEqual(Double(rows[0][5]), 0, "one rank moves nothing")
    let megabytes = try XCTUnwrap(Double(rows[1][5]))
    XCTAssertGreaterThanOrEqual(megabytes, (dense * 4 / 1e6 * 10).rounded(.down) / 10, "the dense gradients are all-reduced")
    XCTAssertLessThan(megabytes, dense * 4 / 1e6 + 0.5, "the id table adds only its rows and ids")
    XCTAssertGreaterThan(Double(rows[1][6]) ?? 0, 6, "gradient buckets, BatchNorm sums and the table's exchanges")
  }
}
