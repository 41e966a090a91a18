import XCTest
@testable import TMLNN
import TMLTensor

/// Inference fusion: the ReLU epilogue of eval-mode `Linear` (every kernel and
/// precision), BatchNorm folded into the preceding Linear, and the one-pass input
/// featurization — each against the separate ops it replaces.
final class InferenceFusionTests: XCTestCase {
  override func tearDown() {
    Precision.inference = .fp32
    GEMMKernel.variant = GEMMKernel.best
  }

  /// x with NaN, ±Inf-free rows, and sizes with row and column tails past the tiles.
  func input(_ rows: Int, _ cols: Int, seed: UInt64) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.uniform([rows, cols], low: -1, high: 1, using: &rng)
  }

  func testReLUEpilogueEqualsReLUOfTheLinearOnEveryKernelAndPrecision() throws {
    var rng = RandomGenerator(seed: 11)
    let layer = Linear(67, 45, rng: &rng)  // 45 columns: one full 32-panel and a tail
    layer.isTraining = false
    let x = input(13, 67, seed: 5)
    for variant in GEMMKernel.Variant.allCases where variant.isSupported {
      for precision in [Precision.fp32, .bf16] {
        GEMMKernel.variant = variant
        Precision.inference = precision
        let plain = try noGrad { try layer(x) }
        let fused = try noGrad { try layer.inference(x, epilogue: .relu) }
        XCTAssertEqual(fused.scalars, plain.relu().scalars, "\(String(describing: variant)) \(precision)")
        XCTAssertTrue(plain.scalars.contains { $0 < 0 }, "the test needs negative pre-activations")
      }
    }
  }

  func testMultiplyingEpilogueEqualsTheProductOnEveryKernelAndPrecision() throws {
    var rng = RandomGenerator(seed: 13)
    let layer = Linear(19, 70, rng: &rng)
    layer.isTraining = false
    let x = input(21, 19, seed: 14), z = input(21, 70, seed: 15)
    for variant in GEMMKernel.Variant.allCases where variant.isSupported {
      for precision in [Precision.fp32, .bf16] {
        GEMMKernel.variant = variant
        Precision.inference = precision
        let plain = try noGrad { try layer(x) }
        let fused = try noGrad { try layer.inference(x, epilogue: .multiplying(z)) }
        XCTAssertEqual(fused.scalars, try (plain * z).scalars, "\(variant) \(precision)")
      }
    }
    XCTAssertThrowsError(try noGrad { try layer.inference(x, epilogue: .multiplying(input(21, 69, seed: 1))) }) {
      XCTAssertTrue("\($0)".contains("[21, 69]"), "\($0)")
    }
  }

  func testReLUEpilogueKeepsNaNAndFallsBackToTheDifferentiableOpInTraining() throws {
    var rng = RandomGenerator(seed: 12)
    let layer = Linear(8, 40, rng: &rng)
    var xs = input(3, 8, seed: 6).scalars
    xs[9] = .nan
    let x = try Tensor(shape: [3, 8], scalars: xs)
    layer.isTraining = false
    let y = try noGrad { try layer.inference(x, epilogue: .relu) }
    XCTAssertTrue((40..<80).allSatisfy { y.scalars[$0].isNaN }, "a NaN input row must stay NaN after the ReLU")
    layer.isTraining = true
    let xg = x.requiringGrad()
    let t = try layer.inference(xg, epilogue: .relu)
    XCTAssertTrue(t.requiresGrad, "training mode must record the ReLU for autograd")
  }

  func testFoldedBatchNormEqualsLinearThenEvalBatchNormAndFollowsEveryChange() throws {
    var rng = RandomGenerator(seed: 21)
    let linear = Linear(30, 20, rng: &rng)
    let bn = BatchNorm1d(20)
    try bn.weight!.assign(Tensor.uniform([20], low: 0.5, high: 2, using: &rng))
    try bn.bias!.assign(Tensor.uniform([20], low: -1, high: 1, using: &rng))
    bn.runningMean.value = Tensor.uniform([20], low: -0.5, high: 0.5, using: &rng)
    bn.runningVar.value = Tensor.uniform([20], low: 0.1, high: 3, using: &rng)
    linear.isTraining = false
    bn.isTraining = false
    let fold = LinearBatchNormFold(linear, bn)
    let x = input(9, 30, seed: 7)
    func check(_ what: String) throws {
      let reference = try noGrad { try bn(try linear(x)) }
      let folded = try noGrad { try fold(x) }
      let maxDiff = zip(reference.scalars, folded.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
      XCTAssertLessThan(maxDiff, 1e-5, what)
      let foldedReLU = try noGrad { try fold(x, epilogue: .relu) }
      XCTAssertEqual(foldedReLU.scalars, folded.relu().scalars, what)
    }
    try check("initial")
    bn.runningVar.value = Tensor.full(4, shape: [20])  // e.g. a reloaded checkpoint
    try check("after running_var changed")
    try linear.weight.assign(Tensor.uniform([20, 30], low: -1, high: 1, using: &rng))
    try check("after the weight changed")
    let affineless = BatchNorm1d(20, affine: false)
    affineless.isTraining = false
    affineless.runningMean.value = Tensor.full(0.25, shape: [20])
    let fold2 = LinearBatchNormFold(linear, affineless)
    let reference = try noGrad { try affineless(try linear(x)) }
    let folded = try noGrad { try fold2(x) }
    XCTAssertLessThan(zip(reference.scalars, folded.scalars).map { Swift.abs($0 - $1) }.max() ?? 1, 1e-5, "affine: false")
  }

  func testSignedLogFeaturesAreBitwiseTheSeparateOps() throws {
    var xs = input(37, 19, seed: 8).scalars.map { $0 * 50 }
    xs[3] = .nan; xs[40] = .infinity; xs[41] = -.infinity; xs[42] = 0; xs[43] = -0.0
    let x = try Tensor(shape: [37, 19], scalars: xs)
    var rng = RandomGenerator(seed: 9)
    let binary = Tensor.uniform([37, 5], low: 0, high: 1, using: &rng)
    let (mean, variance) = (Tensor.uniform([19], low: -1, high: 1, using: &rng), Tensor.uniform([19], low: 0.2, high: 2, using: &rng))
    let (w, b) = (Tensor.uniform([19], low: 0.5, high: 2, using: &rng), Tensor.uniform([19], low: -1, high: 1, using: &rng))
    for withBatchNorm in [false, true] {
      var u = x.replacingNonFinite(with: 0)
      u = try u.sign() * u.abs().log1p()
      if withBatchNorm {
        u = try Tensor.batchNorm(u, weight: w, bias: b, eps: 1e-5, training: false, runningMean: mean, runningVar: variance).0
      }
      let expected = try Tensor.concat([u.clamp(min: -3, max: 3), binary], axis: -1)
      let bn = withBatchNorm ? SignedLogBatchNorm(runningMean: mean.scalars, runningVar: variance.scalars, eps: 1e-5,
                                                  weight: w.scalars, bias: b.scalars) : nil
      let fused = try Tensor.signedLogFeatures(continuous: x, binary: binary, batchNorm: bn, clampMin: -3, clampMax: 3)
      XCTAssertEqual(fused.shape, expected.shape)
      XCTAssertEqual(fused.scalars.map(\.bitPattern), expected.scalars.map(\.bitPattern), "batch norm: \(withBatchNorm)")
    }
    XCTAssertThrowsError(try Tensor.signedLogFeatures(continuous: x, binary: Tensor.zeros([2, 5]), batchNorm: nil, clampMin: -1, clampMax: 1))
  }
}
