import Foundation
import XCTest
@testable import TMLTensor

/// Forward values, view semantics and error messages of the tensor API.
final class TensorTests: XCTestCase {
  // MARK: construction

  func testShapeAndScalarsRoundTrip() throws {
    let t = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    XCTAssertEqual(t.shape, [2, 3])
    XCTAssertEqual(t.rank, 2)
    XCTAssertEqual(t.count, 6)
    XCTAssertEqual(t.scalars, [1, 2, 3, 4, 5, 6])
    XCTAssertEqual(t[1, 0], 4)
    XCTAssertEqual(t[0, 2], 3)
  }

  func testInitWithTheWrongScalarCountThrowsNamingBothCounts() {
    assertThrowsTensorError(["[2, 3]", "6", "5"]) { try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5]) }
  }

  func testInitWithANegativeDimensionThrows() {
    assertThrowsTensorError(["negative", "[-1, 2]"]) { try Tensor(shape: [-1, 2], scalars: []) }
  }

  func testScalarTensorHasRankZeroAndOneItem() {
    let s = Tensor(scalar: 2.5)
    XCTAssertEqual(s.shape, [])
    XCTAssertEqual(s.count, 1)
    XCTAssertEqual(s.item, 2.5)
    XCTAssertNil(Tensor([1, 2]).item)
  }

  func testZerosOnesAndFullFillEveryElement() {
    XCTAssertEqual(Tensor.zeros([2, 2]).scalars, [0, 0, 0, 0])
    XCTAssertEqual(Tensor.ones([3]).scalars, [1, 1, 1])
    XCTAssertEqual(Tensor.full(-2, shape: [1, 2]).scalars, [-2, -2])
    XCTAssertEqual(Tensor.zeros([0, 4]).count, 0)
  }

  func testIndexTensorWithTheWrongValueCountThrows() {
    assertThrowsTensorError(["[2, 2]", "4", "3"]) { try IndexTensor(shape: [2, 2], values: [1, 2, 3]) }
  }

  func testDescriptionShowsShapeAndValues() {
    XCTAssertEqual(Tensor([1, 2]).description, "Tensor(shape: [2], [1.0, 2.0])")
  }

  // MARK: views and copy-on-write

  func testReshapeInfersTheMinusOneDimension() throws {
    let t = try Tensor(shape: [2, 6], scalars: (0..<12).map(Float.init))
    XCTAssertEqual(try t.reshaped(to: [3, -1]).shape, [3, 4])
    XCTAssertEqual(try t.reshaped(to: [-1]).shape, [12])
    XCTAssertEqual(try t.reshaped(to: [2, -1, 2]).scalars, t.scalars)
  }

  func testReshapeToAnIncompatibleShapeThrowsNamingBothShapes() throws {
    let t = Tensor.zeros([2, 3])
    assertThrowsTensorError(["[2, 3]", "[4]"]) { try t.reshaped(to: [4]) }
    assertThrowsTensorError(["[4, -1]", "[2, 3]"]) { try t.reshaped(to: [4, -1]) }
  }

  func testReshapeWithTwoUnknownDimensionsThrows() {
    assertThrowsTensorError(["[-1, -1]"]) { try Tensor.zeros([4]).reshaped(to: [-1, -1]) }
  }

  func testRowsAndReshapedShareStorage() throws {
    let t = try Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
    let r = try t.rows(1..<3)
    let v = try t.reshaped(to: [2, 3])
    XCTAssertTrue(r.sharesStorage(with: t))
    XCTAssertTrue(v.sharesStorage(with: t))
    XCTAssertEqual(r.shape, [2, 2])
    XCTAssertEqual(r.scalars, [3, 4, 5, 6])
  }

  func testRowsOutsideTheTensorThrows() {
    assertThrowsTensorError(["0..<4", "[3, 2]"]) { try Tensor.zeros([3, 2]).rows(0..<4) }
  }

  func testMutatingASharedCopyCopiesTheBufferAndLeavesTheOriginalUnchanged() throws {
    let original = Tensor([1, 2, 3])
    var copy = original
    XCTAssertTrue(copy.sharesStorage(with: original))
    copy.withUnsafeMutableBufferPointer { $0[0] = 99 }
    XCTAssertFalse(copy.sharesStorage(with: original))
    XCTAssertEqual(original.scalars, [1, 2, 3])
    XCTAssertEqual(copy.scalars, [99, 2, 3])
  }

  func testMutatingARowViewCopiesOnlyTheViewedRows() throws {
    let original = try Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
    var view = try original.rows(1..<2)
    view.withUnsafeMutableBufferPointer { $0[1] = -4 }
    XCTAssertEqual(view.scalars, [3, -4])
    XCTAssertEqual(view.shape, [1, 2])
    XCTAssertEqual(original.scalars, [1, 2, 3, 4, 5, 6])
  }

  func testMutatingAUniquelyOwnedTensorWritesInPlace() {
    var t = Tensor([1, 2, 3])
    let before = t.withUnsafeBufferPointer { $0.baseAddress }
    t.withUnsafeMutableBufferPointer { $0[2] = 7 }
    XCTAssertEqual(t.withUnsafeBufferPointer { $0.baseAddress }, before)
    XCTAssertEqual(t.scalars, [1, 2, 7])
  }

  func testTransposedSwapsRowsAndColumns() throws {
    let t = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]).transposed()
    XCTAssertEqual(t.shape, [3, 2])
    XCTAssertEqual(t.scalars, [1, 4, 2, 5, 3, 6])
  }

  // MARK: broadcasting arithmetic

  func testBroadcastAddOfARowVector() throws {
    let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let y = try a + Tensor([10, 20, 30])
    XCTAssertEqual(y.shape, [2, 3])
    XCTAssertEqual(y.scalars, [11, 22, 33, 14, 25, 36])
  }

  func testBroadcastMulOfAColumnByARow() throws {
    let y = try Tensor(shape: [2, 1], scalars: [1, 2]) * Tensor(shape: [1, 3], scalars: [3, 4, 5])
    XCTAssertEqual(y.shape, [2, 3])
    XCTAssertEqual(y.scalars, [3, 4, 5, 6, 8, 10])
  }

  func testBroadcastBetweenRank3AndRank2MatchesElementwiseDefinition() throws {
    let a = testValues([2, 3, 4], seed: 1), b = testValues([3, 1], seed: 2)
    let ops: [(String, (Tensor, Tensor) throws -> Tensor, (Float, Float) -> Float)] = [
      ("add", { try $0 + $1 }, { $0 + $1 }), ("sub", { try $0 - $1 }, { $0 - $1 }),
      ("mul", { try $0 * $1 }, { $0 * $1 }), ("div", { try $0 / $1 }, { $0 / $1 }),
    ]
    for (name, op, f) in ops {
      for (x, y) in [(a, b), (b, a)] {
        let out = try op(x, y)
        XCTAssertEqual(out.shape, [2, 3, 4], name)
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
          expected.append(x.rank == 3 ? f(x[i, j, k], y[j, 0]) : f(x[j, 0], y[i, j, k]))
        } } }
        XCTAssertEqual(out.scalars, expected, "\(name) \(describe(shape: x.shape)) with \(describe(shape: y.shape))")
      }
    }
  }

  func testBroadcastWithAScalarTensor() throws {
    XCTAssertEqual(try (Tensor([1, 2]) * Tensor(scalar: 3)).scalars, [3, 6])
    XCTAssertEqual(try (Tensor(scalar: 1) - Tensor([1, 2])).scalars, [0, -1])
  }

  func testScalarOperatorsOnBothSides() {
    let t = Tensor([1, 2])
    XCTAssertEqual((t + 1).scalars, [2, 3])
    XCTAssertEqual((1 + t).scalars, [2, 3])
    XCTAssertEqual((t - 1).scalars, [0, 1])
    XCTAssertEqual((1 - t).scalars, [0, -1])
    XCTAssertEqual((t * 3).scalars, [3, 6])
    XCTAssertEqual((3 * t).scalars, [3, 6])
    XCTAssertEqual((t / 2).scalars, [0.5, 1])
    XCTAssertEqual((-t).scalars, [-1, -2])
  }

  func testIncompatibleBroadcastThrowsNamingBothShapes() {
    assertThrowsTensorError(["[2, 3]", "[2]"]) { try Tensor.zeros([2, 3]) + Tensor.zeros([2]) }
  }

  // MARK: matmul, linear

  func testMatmulMatchesTheDefinitionForEveryTransposeCombination() throws {
    let a = testValues([3, 4], seed: 1), b = testValues([4, 2], seed: 2)
    let at = try a.transposed(), bt = try b.transposed()
    var expected = [Float](repeating: 0, count: 6)
    for i in 0..<3 { for j in 0..<2 { for k in 0..<4 { expected[i * 2 + j] += a[i, k] * b[k, j] } } }
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
      let c = try Tensor.matmul(ta ? at : a, tb ? bt : b, transposeA: ta, transposeB: tb)
      XCTAssertEqual(c.shape, [3, 2])
      assertClose(c.scalars, expected, tolerance: 1e-5, "transposeA \(ta) transposeB \(tb)")
    }
  }

  func testMatmulWithEmptyInnerDimensionIsZeros() throws {
    XCTAssertEqual(try Tensor.matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 3])).scalars, [Float](repeating: 0, count: 6))
  }

  func testMatmulInnerDimensionMismatchNamesShapesAndDimensions() {
    assertThrowsTensorError(["[2, 3]", "[4, 5]", "3 vs 4"]) { try Tensor.matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5])) }
  }

  func testMatmulOfNon2DTensorsThrows() {
    assertThrowsTensorError(["2-d", "[3]"]) { try Tensor.matmul(Tensor.zeros([3]), Tensor.zeros([3, 1])) }
  }

  func testLinearComputesXTimesWeightTransposedPlusBias() throws {
    let x = testValues([2, 3, 5], seed: 1), w = testValues([4, 5], seed: 2), b = testValues([4], seed: 3)
    let y = try Tensor.linear(x, weight: w, bias: b)
    XCTAssertEqual(y.shape, [2, 3, 4])
    var expected: [Float] = []
    for i in 0..<2 { for j in 0..<3 { for o in 0..<4 {
      var s = b[o]
      for k in 0..<5 { s += x[i, j, k] * w[o, k] }
      expected.append(s)
    } } }
    assertClose(y.scalars, expected, tolerance: 1e-5, "linear")
    let noBias = try Tensor.linear(x, weight: w, bias: nil)
    assertClose(noBias.scalars, try (y - b).scalars, tolerance: 1e-5, "linear without bias")
  }

  func testLinearInputWeightMismatchNamesBothShapes() {
    assertThrowsTensorError(["[2, 3]", "in=5", "out=4"]) { try Tensor.linear(Tensor.zeros([2, 3]), weight: Tensor.zeros([4, 5]), bias: nil) }
  }

  func testLinearWithAWrongBiasShapeThrows() {
    assertThrowsTensorError(["bias", "[4]", "[3]"]) {
      try Tensor.linear(Tensor.zeros([2, 5]), weight: Tensor.zeros([4, 5]), bias: Tensor.zeros([3]))
    }
  }

  // MARK: concat, split, gather

  func testConcatAlongLastAndFirstAxes() throws {
    let a = try Tensor(shape: [2, 1], scalars: [1, 2]), b = try Tensor(shape: [2, 2], scalars: [3, 4, 5, 6])
    let c = try Tensor.concat([a, b], axis: -1)
    XCTAssertEqual(c.shape, [2, 3])
    XCTAssertEqual(c.scalars, [1, 3, 4, 2, 5, 6])
    let r = try Tensor.concat([b, try a.reshaped(to: [1, 2])], axis: 0)
    XCTAssertEqual(r.shape, [3, 2])
    XCTAssertEqual(r.scalars, [3, 4, 5, 6, 1, 2])
  }

  func testConcatOfMismatchedShapesNamesBothShapes() {
    assertThrowsTensorError(["[3, 2]", "[2, 2]"]) { try Tensor.concat([Tensor.zeros([2, 2]), Tensor.zeros([3, 2])], axis: -1) }
  }

  func testConcatOfMismatchedRanksThrows() {
    assertThrowsTensorError(["rank"]) { try Tensor.concat([Tensor.zeros([2, 2]), Tensor.zeros([2])]) }
  }

  func testSplitIsTheInverseOfConcat() throws {
    let t = testValues([3, 6])
    let parts = try t.split([1, 0, 5], axis: -1)
    XCTAssertEqual(parts.map(\.shape), [[3, 1], [3, 0], [3, 5]])
    XCTAssertEqual(try Tensor.concat(parts, axis: -1).scalars, t.scalars)
    let rows = try t.split([2, 1], axis: 0)
    XCTAssertEqual(rows[1].scalars, try t.rows(2..<3).scalars)
  }

  func testSplitSizesThatDoNotAddUpThrow() {
    assertThrowsTensorError(["[1, 2]", "4"]) { try Tensor.zeros([2, 4]).split([1, 2]) }
  }

  func testGatherRowsPicksRowsInIndexOrder() throws {
    let t = try Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
    let g = try t.gatherRows(IndexTensor([2, 0, 2]))
    XCTAssertEqual(g.shape, [3, 2])
    XCTAssertEqual(g.scalars, [5, 6, 1, 2, 5, 6])
  }

  func testGatherRowsOutOfRangeNamesTheIndexAndItsPosition() {
    let t = Tensor.zeros([3, 2])
    assertThrowsTensorError(["index 5", "position 1", "0..<3"]) { try t.gatherRows(IndexTensor([0, 5, 1])) }
    assertThrowsTensorError(["index -1", "position 0"]) { try t.gatherRows(IndexTensor([-1])) }
  }

  func testIndexSelectOnTheLastAxisPicksColumns() throws {
    let t = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let s = try t.indexSelect(axis: -1, IndexTensor([2, 2, 0]))
    XCTAssertEqual(s.shape, [2, 3])
    XCTAssertEqual(s.scalars, [3, 3, 1, 6, 6, 4])
  }

  func testIndexSelectOnAMiddleAxisThrows() {
    assertThrowsTensorError(["axis 1"]) { try Tensor.zeros([2, 3, 4]).indexSelect(axis: 1, IndexTensor([0])) }
  }

  // MARK: reductions

  func testSumAndMeanMatchAHandComputation() throws {
    let t = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    XCTAssertEqual(t.sum().shape, [])
    XCTAssertEqual(t.sum().item, 21)
    XCTAssertEqual(t.mean().item, 3.5)
    XCTAssertEqual(try t.sum(axis: 0).scalars, [5, 7, 9])
    XCTAssertEqual(try t.sum(axis: 0).shape, [3])
    XCTAssertEqual(try t.sum(axis: 1).scalars, [6, 15])
    XCTAssertEqual(try t.sum(axis: -1, keepDim: true).shape, [2, 1])
    XCTAssertEqual(try t.mean(axis: 0).scalars, [2.5, 3.5, 4.5])
    XCTAssertEqual(try t.mean(axis: -1, keepDim: true).scalars, [2, 5])
    XCTAssertEqual(try t.mean(axis: 1, keepDim: true).shape, [2, 1])
  }

  func testSumOfRank3AlongTheMiddleAxis() throws {
    let t = try Tensor(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
    XCTAssertEqual(try t.sum(axis: 1).scalars, [4, 6, 12, 14])
  }

  func testReductionOverAnOutOfRangeAxisThrows() {
    assertThrowsTensorError(["axis 2", "[2, 3]"]) { try Tensor.zeros([2, 3]).sum(axis: 2) }
    assertThrowsTensorError(["axis -3"]) { try Tensor.zeros([2, 3]).mean(axis: -3) }
  }

  // MARK: elementwise functions

  func testSigmoidAtPlusMinus100IsFiniteAndSaturated() {
    let s = Tensor([-100, 0, 100]).sigmoid().scalars
    XCTAssertTrue(s.allSatisfy { $0.isFinite })
    XCTAssertEqual(s[0], 0, accuracy: 1e-30)
    XCTAssertEqual(s[1], 0.5)
    XCTAssertEqual(s[2], 1)
  }

  func testClampKeepsNaN() {
    let c = Tensor([-3, .nan, 0.25, 3]).clamp(min: -1, max: 1).scalars
    XCTAssertEqual(c[0], -1)
    XCTAssertTrue(c[1].isNaN)
    XCTAssertEqual(c[2], 0.25)
    XCTAssertEqual(c[3], 1)
  }

  func testReplacingNonFiniteReplacesNaNAndInfinities() {
    let t = Tensor([1, .nan, .infinity, -.infinity, -2])
    XCTAssertEqual(t.replacingNonFinite(with: 9).scalars, [1, 9, 9, 9, -2])
    XCTAssertEqual(t.replacingNonFinite().scalars, [1, 0, 0, 0, -2])
    XCTAssertFalse(t.allFinite)
    XCTAssertEqual(t.isFiniteMask().scalars, [1, 0, 0, 0, 1])
  }

  func testReplacingNonFiniteGradientIsZeroAtNonFiniteElements() throws {
    let x = Tensor([1, .nan, .infinity, 2]).requiringGrad()
    try (x.replacingNonFinite() * Tensor([3, 3, 3, 3])).sum().backward()
    XCTAssertEqual(x.grad?.scalars, [3, 0, 0, 3])
  }

  func testUnaryFunctionsMatchFoundation() {
    let v: [Float] = [0.25, 0.5, 1, 2]
    let t = Tensor(v)
    assertClose(t.exp().scalars, v.map { Foundation.exp($0) }, tolerance: 1e-6, "exp")
    assertClose(t.log().scalars, v.map { Foundation.log($0) }, tolerance: 1e-6, "log")
    assertClose(t.log1p().scalars, v.map { Foundation.log1p($0) }, tolerance: 1e-6, "log1p")
    assertClose(t.sqrt().scalars, v.map { $0.squareRoot() }, tolerance: 1e-6, "sqrt")
    assertClose(t.tanh().scalars, v.map { Foundation.tanh($0) }, tolerance: 1e-6, "tanh")
    assertClose((-t).abs().scalars, v, tolerance: 0, "abs")
    XCTAssertEqual(Tensor([-1, 0, 2]).relu().scalars, [0, 0, 2])
  }

  func testWhereSelectsByConditionAndRejectsMismatchedShapes() throws {
    let w = try Tensor.where(Tensor([1, 0, -1]), Tensor([1, 2, 3]), Tensor([10, 20, 30]))
    XCTAssertEqual(w.scalars, [1, 20, 3])
    assertThrowsTensorError(["where", "[2]", "[3]"]) { try Tensor.where(Tensor([1, 0]), Tensor([1, 2, 3]), Tensor([1, 2, 3])) }
  }

  // MARK: normalisation

  func testLayerNormNormalisesEachRow() throws {
    let x = try Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, -1, 0, 0, 5])
    let w = Tensor([1, 2, 0.5, -1]), b = Tensor([0, 0.1, 0.2, 0.3])
    let y = try Tensor.layerNorm(x, weight: w, bias: b, eps: 1e-5)
    var expected: [Float] = []
    for r in 0..<2 {
      let row = (0..<4).map { x[r, $0] }
      let mu = row.reduce(0, +) / 4
      let v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / 4
      for i in 0..<4 { expected.append((row[i] - mu) / (v + 1e-5).squareRoot() * w[i] + b[i]) }
    }
    assertClose(y.scalars, expected, tolerance: 1e-5, "layerNorm")
  }

  func testLayerNormWithEpsZeroOnAConstantRowGivesExactlyTheBiasAndAFiniteGradient() throws {
    let x = try Tensor(shape: [2, 4], scalars: [2, 2, 2, 2, 1, 2, 3, 4]).requiringGrad()
    let w = Tensor([1, 2, 3, 4]).requiringGrad(), b = Tensor([0.1, 0.2, 0.3, 0.4]).requiringGrad()
    let y = try Tensor.layerNorm(x, weight: w, bias: b, eps: 0)
    XCTAssertEqual(try y.rows(0..<1).scalars, [0.1, 0.2, 0.3, 0.4])
    XCTAssertTrue(y.allFinite)
    try (y * fixedRandomWeights([2, 4])).sum().backward()
    for (name, g) in [("x", x.grad), ("weight", w.grad), ("bias", b.grad)] {
      XCTAssertTrue(g?.allFinite ?? false, "\(name) gradient \(String(describing: g))")
    }
  }

  func testLayerNormWithEpsZeroGivesExactlyTheBiasForAnyConstantRow() throws {
    var failures: [String] = []
    for value: Float in [0.1, 0.3, 1.0 / 3, 0.7, 1.1, -0.2, 123.456] {
      for d in [3, 5, 7, 10, 100] {
        let bias = Tensor.full(0.5, shape: [d])
        let y = try Tensor.layerNorm(Tensor.full(value, shape: [2, d]), weight: Tensor.full(2, shape: [d]), bias: bias, eps: 0)
        if y.scalars != [Float](repeating: 0.5, count: 2 * d) { failures.append("value \(value), d \(d): \(y.scalars[0])") }
      }
    }
    XCTAssertTrue(failures.isEmpty, "constant rows not mapped to the bias: \(failures)")
  }

  func testLargeTensorsTakeTheParallelPathsAndMatchScalarResults() throws {
    // Above every kernel's parallel threshold (2 × 65_536 elements for binary ops).
    let shape = [400, 500]
    let a = testValues(shape, seed: 1), b = testValues(shape, low: 0.5, high: 2, seed: 2)
    let av = a.scalars, bv = b.scalars
    XCTAssertEqual(try (a + b).scalars, zip(av, bv).map { $0 + $1 })
    XCTAssertEqual(try (a * b).scalars, zip(av, bv).map { $0 * $1 })
    XCTAssertEqual(try (a / b).scalars, zip(av, bv).map { $0 / $1 })
    XCTAssertEqual((a * 3 + 1).scalars, av.map { $0 * 3 + 1 })
    XCTAssertEqual(a.exp().scalars, av.map { Foundation.exp($0) })
    XCTAssertEqual(a.sigmoid().scalars, av.map { Tensor.sigmoid($0) })
    let rowSums = try a.sum(axis: 1).scalars
    for r in [0, 199, 399] {
      XCTAssertEqual(rowSums[r], av[(r * 500)..<(r * 500 + 500)].reduce(0, +), accuracy: 1e-3)
    }
    let ln = try Tensor.layerNorm(a, weight: nil, bias: nil, eps: 1e-5)
    let lastRow = try ln.rows(399..<400).scalars
    XCTAssertEqual(lastRow.reduce(0, +) / 500, 0, accuracy: 1e-4)
    XCTAssertEqual(lastRow.map { $0 * $0 }.reduce(0, +) / 500, 1, accuracy: 1e-3)
  }

  func testLayerNormWithAMismatchedWeightThrows() {
    assertThrowsTensorError(["weight", "[3]", "[4]"]) {
      try Tensor.layerNorm(Tensor.zeros([2, 3]), weight: Tensor.zeros([4]), bias: nil, eps: 1e-5)
    }
  }

  func testBatchNormTrainingNormalisesColumnsAndReturnsBiasedStatistics() throws {
    let x = try Tensor(shape: [4, 2], scalars: [1, 10, 2, 20, 3, 30, 4, 40])
    let (y, stats) = try Tensor.batchNorm(x, weight: nil, bias: nil, eps: 0, training: true, runningMean: nil, runningVar: nil)
    let s = try XCTUnwrap(stats)
    assertClose(s.mean, [2.5, 25], tolerance: 1e-6, "mean")
    assertClose(s.variance, [1.25, 125], tolerance: 1e-6, "biased variance")
    let col0 = (0..<4).map { y[$0, 0] }, col1 = (0..<4).map { y[$0, 1] }
    assertClose(col0, [-1.5, -0.5, 0.5, 1.5].map { $0 / Float(1.25).squareRoot() }, tolerance: 1e-5, "column 0")
    assertClose(col1, col0, tolerance: 1e-5, "column 1")
  }

  func testBatchNormEvalUsesTheRunningStatistics() throws {
    let x = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
    let (y, stats) = try Tensor.batchNorm(x, weight: Tensor([2, 1]), bias: Tensor([0, 1]), eps: 0, training: false,
                                          runningMean: Tensor([1, 0]), runningVar: Tensor([4, 1]))
    XCTAssertNil(stats)
    assertClose(y.scalars, [0, 3, 2, 5], tolerance: 1e-6, "eval batchNorm")
  }

  func testBatchNormTrainingWithBatchSizeOneThrows() {
    assertThrowsTensorError(["more than 1", "[1, 3]"]) {
      try Tensor.batchNorm(Tensor.zeros([1, 3]), weight: nil, bias: nil, eps: 1e-5, training: true, runningMean: nil, runningVar: nil)
    }
  }

  func testBatchNormEvalWithoutRunningStatisticsThrows() {
    assertThrowsTensorError(["running_mean"]) {
      try Tensor.batchNorm(Tensor.zeros([2, 3]), weight: nil, bias: nil, eps: 1e-5, training: false, runningMean: nil, runningVar: nil)
    }
  }

  // MARK: binary cross-entropy

  func testBCEWithLogitsMatchesTheDefinition() throws {
    let z: [Float] = [-2, -0.5, 0.3, 1.7, 0, 2.5]
    let y: [Float] = [0, 1, 1, 0, 0.5, 1]
    let w: [Float] = [1, 2, 0.5, 1, 3, 1]
    let p: [Float] = [2, 0.5, 1]
    let logits = try Tensor(shape: [2, 3], scalars: z), labels = try Tensor(shape: [2, 3], scalars: y)
    let weight = try Tensor(shape: [2, 3], scalars: w)
    let out = try Tensor.bceWithLogits(logits, labels: labels, weight: weight, posWeight: Tensor(p), reduction: .none)
    let expected = (0..<6).map { i -> Float in
      let s = 1 / (1 + Foundation.exp(-Double(z[i])))
      return Float(Double(w[i]) * -(Double(p[i % 3]) * Double(y[i]) * Foundation.log(s) + Double(1 - y[i]) * Foundation.log(1 - s)))
    }
    assertClose(out.scalars, expected, tolerance: 1e-5, "bce none")
    let sum = try Tensor.bceWithLogits(logits, labels: labels, weight: weight, posWeight: Tensor(p), reduction: .sum)
    let mean = try Tensor.bceWithLogits(logits, labels: labels, weight: weight, posWeight: Tensor(p), reduction: .mean)
    XCTAssertEqual(sum.item!, expected.reduce(0, +), accuracy: 1e-4)
    XCTAssertEqual(mean.item!, expected.reduce(0, +) / 6, accuracy: 1e-5)
  }

  func testBCEWithLogitsIsFiniteAndExactForHugeLogits() throws {
    let logits = Tensor([1e4, -1e4, 1e4, -1e4]), labels = Tensor([0, 1, 1, 0])
    let x = logits.requiringGrad()
    let out = try Tensor.bceWithLogits(x, labels: labels, reduction: .none)
    XCTAssertTrue(out.allFinite)
    XCTAssertEqual(out[0], 1e4, accuracy: 1e-2)
    XCTAssertEqual(out[1], 1e4, accuracy: 1e-2)
    XCTAssertEqual(out[2], 0, accuracy: 1e-6)
    XCTAssertEqual(out[3], 0, accuracy: 1e-6)
    try out.sum().backward()
    let g = try XCTUnwrap(x.grad)
    XCTAssertTrue(g.allFinite)
    assertClose(g.scalars, [1, -1, 0, 0], tolerance: 1e-6, "bce gradient σ(z) − y")
  }

  func testBCEWithLogitsWithANaNLogitThrowsNamingNaNAndTheIndex() {
    assertThrowsTensorError(["NaN", "index 2"]) {
      try Tensor.bceWithLogits(Tensor([0.5, 1, .nan, 2]), labels: Tensor([0, 1, 0, 1]))
    }
  }

  func testBCEWithLogitsRejectsMismatchedLabelsAndPosWeight() {
    assertThrowsTensorError(["labels", "[3]", "[2]"]) { try Tensor.bceWithLogits(Tensor([0, 0]), labels: Tensor([0, 1, 0])) }
    assertThrowsTensorError(["pos_weight", "[2]"]) {
      try Tensor.bceWithLogits(Tensor([0, 0]), labels: Tensor([0, 1]), posWeight: Tensor([1, 1, 1]))
    }
  }

  // MARK: dropout

  func testDropoutKeepsAboutOneMinusPAndScalesKeptValues() throws {
    var rng = RandomGenerator(seed: 3)
    let x = Tensor.ones([20_000])
    let y = try x.dropout(probability: 0.25, using: &rng).scalars
    let kept = y.filter { $0 != 0 }
    XCTAssertTrue(kept.allSatisfy { Swift.abs($0 - 1 / 0.75) < 1e-6 })
    XCTAssertEqual(Double(kept.count) / 20_000, 0.75, accuracy: 0.02)
  }

  func testDropoutWithTheSameSeedGivesTheSameMask() throws {
    var r1 = RandomGenerator(seed: 11), r2 = RandomGenerator(seed: 11)
    let x = testValues([50])
    XCTAssertEqual(try x.dropout(probability: 0.5, using: &r1).scalars, try x.dropout(probability: 0.5, using: &r2).scalars)
  }

  func testDropoutProbabilityZeroIsIdentityAndOneIsZeros() throws {
    var rng = RandomGenerator(seed: 1)
    let x = testValues([10])
    XCTAssertEqual(try x.dropout(probability: 0, using: &rng).scalars, x.scalars)
    XCTAssertEqual(try x.dropout(probability: 1, using: &rng).scalars, [Float](repeating: 0, count: 10))
    assertThrowsTensorError(["probability", "1.5"]) { try x.dropout(probability: 1.5, using: &rng) }
  }
}
