import Foundation
import XCTest
@testable import TMLDistributed

/// The collectives over real MPI: `tml distributed check` under `mpirun -np 2` and 3 on
/// loopback. Skipped (with the reason) when mpirun or the `tml` binary is missing.
final class MPICollectiveTests: XCTestCase {
  static var tml: String {
    #if os(macOS)
    let products = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL.deletingLastPathComponent() ?? Bundle.main.bundleURL
    #else
    let products = Bundle.main.bundleURL
    #endif
    return products.appendingPathComponent("tml").path
  }

  func requireMPI() throws {
    try XCTSkipIf(MPILauncher.mpirun() == nil, "mpirun is not installed (bash scripts/install-deps.sh installs Open MPI)")
    try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.tml), "\(Self.tml) is not built")
  }

  func testEveryCollectiveIsCorrectOnTwoAndThreeRanks() throws {
    try requireMPI()
    for n in [2, 3] {
      let r = try MPILauncher.run(ranks: n, program: Self.tml, arguments: ["distributed", "check"], timeout: 120)
      XCTAssertEqual(r.status, 0, r.output)
      XCTAssertTrue(r.output.contains("\(n) ranks (MPICommunicator)"), r.output)
      for name in ["allReduce sum", "allGatherV", "allToAllV", "allToAll", "broadcast", "barrier", "agree", "row-sharded table"] {
        XCTAssertTrue(r.output.contains("\(name): ok"), "\(name) on \(n) ranks:\n\(r.output)")
      }
    }
  }
}

/// Commands that write one output refuse to start as one of several ranks (N copies would
/// race on the same files), naming the rank count and what to do.
final class MPIRefusalTests: XCTestCase {
  func testAOneProcessCommandUnderMPIRunIsAnErrorOnEveryRank() throws {
    try XCTSkipIf(MPILauncher.mpirun() == nil, "mpirun is not installed (bash scripts/install-deps.sh installs Open MPI)")
    try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: MPICollectiveTests.tml), "\(MPICollectiveTests.tml) is not built")
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("tml-refusal-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    let r = try MPILauncher.run(ranks: 2, program: MPICollectiveTests.tml,
                                arguments: ["twhin", "generate-graph", "--out", out], timeout: 60)
    XCTAssertNotEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("started as one of 2 mpirun ranks; start it without mpirun"), r.output)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing is written")
  }
}
