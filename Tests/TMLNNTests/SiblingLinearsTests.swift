import XCTest
@testable import TMLNN
import TMLTensor

final class SiblingLinearsTests: XCTestCase {
  // With our AVX-512 GEMM enabled the layers use their own packed weights instead of
  // fusing; these tests exercise the fused path that BLAS-only machines take.
  override func setUp() { GEMMKernel.isEnabled = false }
  override func tearDown() { GEMMKernel.isEnabled = GEMMKernel.isSupported }

  func testFusedOutputsEqualTheLayersOneByOneAndFollowWeightUpdates() throws {
    var rng = RandomGenerator(seed: 3)
    let layers = [Linear(5, 3, rng: &rng), Linear(5, 4, rng: &rng), Linear(5, 2, rng: &rng)]
    let siblings = SiblingLinears(layers)
    let x = Tensor.normal([6, 5], using: &rng)
    func check(_ what: String) throws {
      let fused = try noGrad { try siblings(x) }
      for (layer, y) in zip(layers, fused) {
        let expected = try noGrad { try layer(x) }
        XCTAssertEqual(y.shape, expected.shape, what)
        for (a, b) in zip(y.scalars, expected.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5, what) }
      }
    }
    try check("initial")
    let v = layers[1].weight.version
    try layers[1].weight.assign(Tensor.full(0.5, shape: [4, 5]))
    XCTAssertGreaterThan(layers[1].weight.version, v, "assign bumps the version")
    try check("after assign")  // the cache is rebuilt
    layers[2].bias!.value.withUnsafeMutableBufferPointer { $0[0] += 10 }
    try check("after in-place mutation")
  }

  func testWithAutogradTheLayersRunOneByOneAndGetGradients() throws {
    var rng = RandomGenerator(seed: 4)
    let layers = [Linear(3, 2, rng: &rng), Linear(3, 2, rng: &rng)]
    let x = Tensor.normal([4, 3], using: &rng)
    let ys = try SiblingLinears(layers)(x)
    try (try ys[0] + ys[1]).sum().backward()
    XCTAssertNotNil(layers[0].weight.grad)
    XCTAssertNotNil(layers[1].weight.grad)
  }
}
