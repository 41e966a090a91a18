import XCTest
@testable import TMLNN
import TMLTensor

/// `Precision.inference` routes eval-mode `Linear` (and `SiblingLinears`) to the bf16
/// product; training mode and the default stay fp32.
final class LinearPrecisionTests: XCTestCase {
  override func tearDown() {
    Precision.inference = .fp32
    GEMMKernel.variant = GEMMKernel.best
  }

  func layerAndInput() throws -> (Linear, Tensor) {
    var rng = RandomGenerator(seed: 3)
    let layer = Linear(45, 37, rng: &rng)
    return (layer, Tensor.uniform([11, 45], low: -1, high: 1, using: &rng))
  }

  func testEvalLinearInBF16EqualsTheBF16Product() throws {
    let (layer, x) = try layerAndInput()
    layer.isTraining = false
    Precision.inference = .bf16
    let y = try noGrad { try layer(x) }
    let expected = try noGrad {
      try Tensor.linear(x, bf16Weight: BF16PackedMatrix(transposing: layer.weight.value), bias: layer.bias?.value)
    }
    XCTAssertEqual(y.scalars, expected.scalars)
    let fp32 = try noGrad { try Tensor.linear(x, weight: layer.weight.value, bias: layer.bias?.value) }
    XCTAssertNotEqual(y.scalars, fp32.scalars, "bf16 gave fp32's numbers")
  }

  func testTrainingModeLinearIgnoresBF16() throws {
    let (layer, x) = try layerAndInput()
    Precision.inference = .bf16
    let y = try layer(x)
    let fp32 = try Tensor.linear(x, weight: layer.weight.value, bias: layer.bias?.value)
    XCTAssertEqual(y.scalars, fp32.scalars)
  }

  func testSiblingLinearsInBF16EqualEachLayerInBF16() throws {
    var rng = RandomGenerator(seed: 4)
    let layers = [Linear(20, 9, rng: &rng), Linear(20, 40, rng: &rng)]
    for l in layers { l.isTraining = false }
    let x = Tensor.uniform([5, 20], low: -1, high: 1, using: &rng)
    GEMMKernel.isEnabled = false  // where SiblingLinears would otherwise fuse into one fp32 GEMM
    Precision.inference = .bf16
    let fused = try noGrad { try SiblingLinears(layers)(x) }
    let separate = try noGrad { try layers.map { try $0(x) } }
    XCTAssertEqual(fused.map(\.scalars), separate.map(\.scalars))
  }
}
