import XCTest
@testable import TMLTensor

/// NaN and ±Inf through the ops as in PyTorch: they propagate, so a damaged weight shows
/// up as NaN outputs instead of plausible constants.
final class NaNSemanticsTests: XCTestCase {
  func testReluKeepsNaNAsTorchRelu() {
    let y = Tensor([-1, 0, 2, .nan, .infinity, -.infinity]).relu().scalars
    XCTAssertEqual(Array(y.prefix(3)), [0, 0, 2])
    XCTAssertTrue(y[3].isNaN, "relu(NaN) = NaN as torch.relu, got \(y[3])")
    XCTAssertEqual(Array(y.suffix(2)), [.infinity, 0])
  }

  func testReluGradientPassesAtNaNAsTorchThresholdBackward() throws {
    // torch: threshold_backward(g, y, 0) = y <= 0 ? 0 : g, so the NaN output passes g.
    let x = Tensor([-1, 0, 2, .nan]).requiringGrad()
    try (x.relu() * Tensor([3, 5, 7, 11])).sum().backward()
    XCTAssertEqual(x.grad?.scalars, [0, 0, 7, 11])
  }

  func testSignOfNaNIsZeroAsTorchSign() {
    XCTAssertEqual(Tensor([-2, 0, 3, .nan]).sign().scalars, [-1, 0, 1, 0])
  }

  func testAbsGradientIsTheIncomingGradientTimesSignAsTorch() throws {
    // torch: grad · sgn(x); sgn(NaN) = 0 and a NaN incoming gradient stays NaN.
    let x = Tensor([.nan, 0, -2, 3]).requiringGrad()
    try (x.abs() * Tensor([1, .nan, 1, 1])).sum().backward()
    let g = try XCTUnwrap(x.grad?.scalars)
    XCTAssertEqual(g[0], 0)
    XCTAssertTrue(g[1].isNaN, "NaN · sgn(0) = NaN, got \(g[1])")
    XCTAssertEqual(Array(g.suffix(2)), [-1, 1])
  }

  func testLayerNormOfARowHoldingNaNIsNaNForwardAndBackward() throws {
    let x = try Tensor(shape: [2, 3], scalars: [1, .nan, 3, 1, 2, 4]).requiringGrad()
    let w = Tensor([1, 2, 3]).requiringGrad(), b = Tensor([0.1, 0.2, 0.3]).requiringGrad()
    let y = try Tensor.layerNorm(x, weight: w, bias: b, eps: 0)
    XCTAssertTrue(try y.rows(0..<1).scalars.allSatisfy(\.isNaN), "the NaN row is NaN, not the bias: \(y)")
    XCTAssertTrue(try y.rows(1..<2).allFinite)
    try (y * Tensor.ones([2, 3])).sum().backward()
    let gx = try XCTUnwrap(x.grad)
    XCTAssertTrue(try gx.rows(0..<1).scalars.allSatisfy(\.isNaN), "dx of the NaN row: \(gx)")
    XCTAssertTrue(try gx.rows(1..<2).allFinite)
    // As torch: dw = Σ dy·x̂ takes the NaN row's x̂; db = Σ dy does not.
    XCTAssertTrue(w.grad?.scalars.allSatisfy(\.isNaN) ?? false, "dw: \(String(describing: w.grad))")
    XCTAssertEqual(b.grad?.scalars, [2, 2, 2])
  }

  func testLayerNormOfARowHoldingInfinityIsNaN() throws {
    let y = try Tensor.layerNorm(try Tensor(shape: [1, 3], scalars: [1, .infinity, 3]), weight: nil, bias: nil, eps: 1e-5)
    XCTAssertTrue(y.scalars.allSatisfy(\.isNaN), "torch gives NaN (∞ − ∞), got \(y)")
  }

  func testFirstNonFiniteIndexFindsTheEarliestNaNOrInfinityOnEveryCore() throws {
    var t = Tensor.zeros([1_000_000])  // above the parallel threshold
    XCTAssertNil(t.firstNonFiniteIndex())
    XCTAssertTrue(t.allFinite)
    t.withUnsafeMutableBufferPointer { p in
      p[900_000] = .nan
      p[700_000] = -.infinity
      p[800_000] = .greatestFiniteMagnitude
    }
    XCTAssertEqual(t.firstNonFiniteIndex(), 700_000)
    XCTAssertFalse(t.allFinite)
    XCTAssertNil(Tensor([.greatestFiniteMagnitude, -.leastNonzeroMagnitude]).firstNonFiniteIndex())
  }
}
