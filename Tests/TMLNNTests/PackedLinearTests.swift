import XCTest
@testable import TMLNN
import TMLTensor

/// `Linear` in eval mode without autograd uses a pre-packed copy of its weight
/// (`GEMMKernel`, AVX-512 or AVX2 CPUs); the copy must follow every change of the weight
/// and of the active kernel.
final class PackedLinearTests: XCTestCase {
  override func tearDown() { GEMMKernel.variant = GEMMKernel.best }

  func reference(_ fc: Linear, _ x: Tensor) throws -> [Float] {
    try Tensor.linear(x, weight: fc.weight.value.detached(), bias: fc.bias?.value.detached()).scalars
  }

  func assertClose(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    var worst: Float = 0
    for (p, q) in zip(a, b) { worst = max(worst, abs(p - q)) }
    XCTAssertLessThan(worst, 1e-4, what, file: file, line: line)
  }

  func testEvalOutputsFollowAssignmentsOptimizerStepsAndModeChanges() throws {
    var rng = RandomGenerator(seed: 11)
    let fc = Linear(70, 45, rng: &rng)
    let x = Tensor.normal([20, 70], using: &rng)
    fc.isTraining = false
    assertClose(try noGrad { try fc(x) }.scalars, try reference(fc, x), "initial")

    try fc.weight.assign(Tensor.normal([45, 70], using: &rng))
    assertClose(try noGrad { try fc(x) }.scalars, try reference(fc, x), "after assign in eval mode")

    fc.weight.value.withUnsafeMutableBufferPointer { $0[3] += 5 }
    assertClose(try noGrad { try fc(x) }.scalars, try reference(fc, x), "after in-place mutation")

    fc.isTraining = true
    let opt = try SGD(groups: [ParameterGroup(name: "all", parameters: fc.parameters, schedule: .constant(0.5))])
    try fc(x).sum().backward()
    try opt.step()
    fc.isTraining = false
    assertClose(try noGrad { try fc(x) }.scalars, try reference(fc, x), "after an SGD step")
  }

  func testEvalWithAutogradStillRecordsGradients() throws {
    var rng = RandomGenerator(seed: 12)
    let fc = Linear(40, 33, rng: &rng)
    fc.isTraining = false
    let x = Tensor.normal([17, 40], using: &rng).requiringGrad()
    try fc(x).sum().backward()
    XCTAssertNotNil(fc.weight.grad)
    XCTAssertNotNil(x.grad)
  }

  func testEvalOutputsFollowAChangeOfTheActiveKernel() throws {
    // AVX-512 packs 32-column panels, AVX2 16: the cached copy must be repacked, or the
    // AVX2 kernel would read the AVX-512 layout. BLAS in between must not use it either.
    let kernels = GEMMKernel.Variant.allCases.filter(\.isSupported)
    var rng = RandomGenerator(seed: 13)
    let fc = Linear(70, 45, rng: &rng)
    let x = Tensor.normal([20, 70], using: &rng)
    fc.isTraining = false
    for kernel in kernels + kernels.reversed() {
      GEMMKernel.variant = kernel
      assertClose(try noGrad { try fc(x) }.scalars, try reference(fc, x), "\(kernel) active")
    }
  }
}
