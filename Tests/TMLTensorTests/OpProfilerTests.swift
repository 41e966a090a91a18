import XCTest
@testable import TMLTensor

/// `OpProfiler` charges forward ops, backward ops and GEMMs (with their 2·m·n·k
/// floating-point operations) to their own keys, and nothing while it is off.
final class OpProfilerTests: XCTestCase {
  override func tearDown() {
    OpProfiler.isEnabled = false
    OpProfiler.reset()
    GEMMKernel.variant = GEMMKernel.best
  }

  func linearStep() throws {
    var rng = RandomGenerator(seed: 3)
    let x = Tensor.normal([32, 20], using: &rng)
    let w = Tensor.normal([10, 20], using: &rng).requiringGrad()
    OpProfiler.lap(nil)
    let y = try Tensor.linear(x, weight: w, bias: nil).relu()
    try y.sum().backward()
  }

  func testForwardBackwardAndGEMMEntries() throws {
    GEMMKernel.variant = .blas  // the same keys whichever GEMM runs; BLAS runs everywhere
    OpProfiler.reset()
    OpProfiler.isEnabled = true
    try linearStep()
    OpProfiler.isEnabled = false
    let e = OpProfiler.entries
    XCTAssertEqual(e["fwd linear"]?.calls, 1)
    XCTAssertEqual(e["fwd relu"]?.calls, 1)
    XCTAssertEqual(e["bwd linear"]?.calls, 1)
    XCTAssertNil(e["fwd matmul"], "ops inside backward closures belong to the bwd entry")
    XCTAssertEqual(e["gemm 32×20×10 Bᵀ"]?.flops, 2 * 32 * 20 * 10, "\(e.keys.sorted())")
    XCTAssertEqual(e["gemm 10×32×20 Aᵀ"]?.calls, 1, "dW = dyᵀ·x: \(e.keys.sorted())")
  }

  func testNothingIsRecordedWhileOff() throws {
    OpProfiler.reset()
    try linearStep()
    XCTAssertTrue(OpProfiler.entries.isEmpty)
  }
}
