import XCTest
@testable import TMLTensor

/// OpenBLAS's thread count follows `Parallelism.threadCount`, so its threads never
/// outnumber the cores our own kernels use (see `Parallelism`).
final class BLASThreadsTests: XCTestCase {
  override func tearDown() { Parallelism.threadCount = ProcessInfo.processInfo.activeProcessorCount }

  func testSettingOurThreadCountSetsOpenBLASs() throws {
    #if canImport(Accelerate)
    throw XCTSkip("Accelerate manages its own threads")
    #else
    Parallelism.threadCount = 1
    XCTAssertEqual(BLAS.threads, 1)
    Parallelism.threadCount = 2
    XCTAssertEqual(BLAS.threads, 2)
    #endif
  }
}
