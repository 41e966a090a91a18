import Dispatch
import Foundation
import XCTest
@testable import TMLTensor

/// Behaviour of the tape: accumulation, clearing, no-grad mode, graph freeing, errors.
final class AutogradTests: XCTestCase {
  func testGradientsAccumulateAcrossTwoBackwardCalls() throws {
    let x = Tensor([1, 2, 3]).requiringGrad()
    try (x * 3).sum().backward()
    XCTAssertEqual(x.grad?.scalars, [3, 3, 3])
    try (x * x).sum().backward()
    XCTAssertEqual(x.grad?.scalars, [5, 7, 9])
  }

  func testZeroGradClearsTheAccumulatedGradient() throws {
    let x = Tensor([1, 2]).requiringGrad()
    try (x * 2).sum().backward()
    XCTAssertNotNil(x.grad)
    x.zeroGrad()
    XCTAssertNil(x.grad)
    try (x * 5).sum().backward()
    XCTAssertEqual(x.grad?.scalars, [5, 5])
  }

  func testGradIsNilBeforeAnyBackward() {
    let x = Tensor([1, 2]).requiringGrad()
    XCTAssertTrue(x.requiresGrad)
    XCTAssertNil(x.grad)
  }

  func testNoGradProducesTensorsThatDoNotRequireGrad() throws {
    let x = Tensor([1, 2, 3]).requiringGrad()
    let w = try Tensor(shape: [2, 3], scalars: [1, 0, 1, 0, 1, 0]).requiringGrad()
    let results: [Tensor] = try noGrad {
      XCTAssertFalse(GradMode.isEnabled)
      return [x * 2, try x + x, x.exp(), x.sum(), try x.reshaped(to: [3, 1]),
              try Tensor.linear(try x.reshaped(to: [1, 3]), weight: w, bias: nil)]
    }
    for (i, r) in results.enumerated() { XCTAssertFalse(r.requiresGrad, "result \(i)") }
    XCTAssertTrue(GradMode.isEnabled)
  }

  func testNestedNoGradRestoresRecordingOnlyAfterTheOutermostScope() throws {
    let x = Tensor([1]).requiringGrad()
    noGrad {
      noGrad { XCTAssertFalse(GradMode.isEnabled) }
      XCTAssertFalse(GradMode.isEnabled)
      XCTAssertFalse((x * 2).requiresGrad)
    }
    XCTAssertTrue(GradMode.isEnabled)
    XCTAssertTrue((x * 2).requiresGrad)
  }

  func testNoGradRestoresRecordingWhenItsBodyThrows() {
    struct Boom: Error {}
    XCTAssertThrowsError(try noGrad { throw Boom() })
    XCTAssertTrue(GradMode.isEnabled)
  }

  func testNoGradAppliesOnlyToTheCurrentThread() {
    final class Box: @unchecked Sendable { var enabled = false }
    let other = Box()
    noGrad {
      let done = DispatchSemaphore(value: 0)
      let t = Thread { other.enabled = GradMode.isEnabled; done.signal() }
      t.start()
      done.wait()
    }
    XCTAssertTrue(other.enabled)
  }

  func testOperationsOnTensorsWithoutGradDoNotRecord() throws {
    let a = Tensor([1, 2]), b = Tensor([3, 4])
    XCTAssertFalse(try (a * b).exp().sum().requiresGrad)
  }

  func testBackwardTwiceOnTheSameGraphThrowsAlreadyFreed() throws {
    let x = Tensor([1, 2, 3]).requiringGrad()
    let y = (x.exp() * 2).sum()
    try y.backward()
    assertThrowsTensorError(["already freed"]) { try y.backward() }
  }

  func testBackwardOnANonScalarWithoutGradientThrows() throws {
    let x = Tensor([1, 2, 3]).requiringGrad()
    assertThrowsTensorError(["scalar", "[3]"]) { try (x * 2).backward() }
  }

  func testBackwardOnANonScalarWithAnExplicitGradientComputesTheVectorJacobianProduct() throws {
    let x = Tensor([1, 2, 3]).requiringGrad()
    try (x * x).backward(gradient: Tensor([1, 10, 100]))
    XCTAssertEqual(x.grad?.scalars, [2, 40, 600])
  }

  func testBackwardWithAGradientOfTheWrongShapeThrowsNamingBothShapes() throws {
    let x = Tensor([1, 2, 3]).requiringGrad()
    assertThrowsTensorError(["[2]", "[3]"]) { try (x * 2).backward(gradient: Tensor([1, 1])) }
  }

  func testBackwardOnATensorThatDoesNotRequireGradThrows() {
    assertThrowsTensorError(["does not require grad"]) { try Tensor([1, 2]).sum().backward() }
    let x = Tensor([1, 2]).requiringGrad()
    let y = noGrad { x.sum() }
    assertThrowsTensorError(["does not require grad"]) { try y.backward() }
  }

  func testBackwardOnALeafDeliversTheSeedToItsGrad() throws {
    let x = Tensor([4, 5]).requiringGrad()
    try x.backward(gradient: Tensor([1, 2]))
    XCTAssertEqual(x.grad?.scalars, [1, 2])
  }

  func testDiamondGraphSumsTheGradientsOfBothPaths() throws {
    let values: [Float] = [0.5, -1, 2]
    let x = Tensor(values).requiringGrad()
    let a = x * 2
    let b = x.exp()
    try (a * b).sum().backward()
    // d/dx (2x·eˣ) = 2eˣ + 2x·eˣ
    let expected = values.map { 2 * Foundation.exp($0) * (1 + $0) }
    assertClose(x.grad!.scalars, expected, tolerance: 1e-5, "diamond gradient")
  }

  func testUsingTheSameTensorForBothOperandsSumsBothGradients() throws {
    let x = Tensor([1, -2, 3]).requiringGrad()
    try (x + x).sum().backward()
    XCTAssertEqual(x.grad?.scalars, [2, 2, 2])
  }

  func testDetachedStopsGradients() throws {
    let x = Tensor([1, 2, 3]).requiringGrad()
    let d = x.detached()
    XCTAssertFalse(d.requiresGrad)
    XCTAssertEqual(d.scalars, x.scalars)
    try (x * d).sum().backward()
    XCTAssertEqual(x.grad?.scalars, [1, 2, 3], "only the non-detached operand contributes")
  }

  func testGradientFlowsOnlyToInputsThatRequireGrad() throws {
    let x = Tensor([1, 2]).requiringGrad()
    let c = Tensor([3, 4])
    try (x * c).sum().backward()
    XCTAssertEqual(x.grad?.scalars, [3, 4])
    XCTAssertNil(c.grad)
  }

  func testGradHookReceivesTheGradientAndDiscardsGradSkipsStoringIt() throws {
    let x = Tensor([1, 2]).requiringGrad()
    var received: [Float]?
    x.node!.gradHook = { received = $0.scalars }
    x.node!.discardsGrad = true
    try (x * 3).sum().backward()
    XCTAssertEqual(received, [3, 3])
    XCTAssertNil(x.grad)
  }

  func testAttachingSparseBackwardHandsTheUpstreamGradientToTheConsumer() throws {
    var consumed: [Float]?
    let pooled = Tensor([1, 2, 3]).attachingSparseBackward(name: "lookup") { consumed = $0.scalars }
    XCTAssertTrue(pooled.requiresGrad)
    try (pooled * Tensor([2, 4, 6])).sum().backward()
    XCTAssertEqual(consumed, [2, 4, 6])
  }

  func testRequiringGradMakesANewIndependentLeaf() throws {
    let x = Tensor([1, 2]).requiringGrad()
    let y = x.requiringGrad()
    try (y * 2).sum().backward()
    XCTAssertEqual(y.grad?.scalars, [2, 2])
    XCTAssertNil(x.grad)
  }
}
