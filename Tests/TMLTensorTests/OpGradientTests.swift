import XCTest
@testable import TMLTensor

/// Finite-difference checks of the backward of every differentiable op.
final class OpGradientTests: XCTestCase {
  /// Broadcast shape pairs exercised for every binary op (both operand orders where they differ).
  static let broadcastPairs: [([Int], [Int])] = [([3, 4], [4]), ([4], [3, 4]), ([3, 1], [1, 4]), ([2, 3, 4], [3, 1]), ([3, 1], [2, 3, 4])]

  /// Divisors bounded away from zero: magnitude in [0.5, 1.5].
  func divisor(_ shape: [Int], seed: UInt64 = 5) -> Tensor {
    valuesAwayFromZero(shape, minMagnitude: 0.5, maxMagnitude: 1.5, seed: seed)
  }

  func checkBroadcasting(
    _ name: String, positiveB: Bool = false, file: StaticString = #filePath, line: UInt = #line,
    _ op: @escaping (Tensor, Tensor) throws -> Tensor
  ) throws {
    for (sa, sb) in Self.broadcastPairs {
      let b = positiveB ? divisor(sb) : testValues(sb, seed: 12)
      try checkGradients([testValues(sa, seed: 11), b], op: "\(name) \(describe(shape: sa)) with \(describe(shape: sb))",
                         file: file, line: line) { try op($0[0], $0[1]) }
    }
  }

  // MARK: tensor–tensor arithmetic, same shape

  func testAddSameShapeGradient() throws {
    try checkGradients([testValues([3, 4], seed: 1), testValues([3, 4], seed: 2)]) { try $0[0] + $0[1] }
  }

  func testSubSameShapeGradient() throws {
    try checkGradients([testValues([3, 4], seed: 1), testValues([3, 4], seed: 2)]) { try $0[0] - $0[1] }
  }

  func testMulSameShapeGradient() throws {
    try checkGradients([testValues([3, 4], seed: 1), testValues([3, 4], seed: 2)]) { try $0[0] * $0[1] }
  }

  func testDivSameShapeGradient() throws {
    try checkGradients([testValues([3, 4], seed: 1), divisor([3, 4])]) { try $0[0] / $0[1] }
  }

  func testMulOfTensorWithItselfGradient() throws {
    try checkGradients([testValues([2, 3])]) { try $0[0] * $0[0] }
  }

  // MARK: tensor–tensor arithmetic, broadcasting

  func testAddGradientSumsOverBroadcastDimensions() throws { try checkBroadcasting("add") { try $0 + $1 } }
  func testSubGradientSumsOverBroadcastDimensions() throws { try checkBroadcasting("sub") { try $0 - $1 } }
  func testMulGradientSumsOverBroadcastDimensions() throws { try checkBroadcasting("mul") { try $0 * $1 } }
  func testDivGradientSumsOverBroadcastDimensions() throws { try checkBroadcasting("div", positiveB: true) { try $0 / $1 } }

  func testBinaryOpGradientWhenOnlyOneOperandRequiresGrad() throws {
    let constant = divisor([4])
    try checkGradients([testValues([3, 4])]) { try $0[0] * constant }
    try checkGradients([testValues([3, 4])]) { try $0[0] / constant }
    let numerator = testValues([3, 4])
    try checkGradients([divisor([4])]) { try numerator / $0[0] }
    try checkGradients([testValues([4])]) { try numerator - $0[0] }
  }

  func testBinaryOpGradientWithARankZeroOperandSumsToAScalar() throws {
    try checkGradients([testValues([3, 4]), Tensor(scalar: 1.3)]) { try $0[0] * $0[1] }
    try checkGradients([divisor([3, 4]), Tensor(scalar: 1.3)]) { try $0[1] / $0[0] }
    try checkGradients([Tensor(scalar: 0.7), Tensor(scalar: 1.3)]) { try $0[0] - $0[1] }
  }

  // MARK: scalar arithmetic

  func testAddScalarGradient() throws {
    try checkGradients([testValues([2, 3])]) { ($0[0] + 2.5) * 1.0 }
    try checkGradients([testValues([2, 3])]) { 2.5 + $0[0] }
  }

  func testSubScalarGradient() throws {
    try checkGradients([testValues([2, 3])]) { $0[0] - 1.5 }
    try checkGradients([testValues([2, 3])]) { 1.5 - $0[0] }
  }

  func testMulScalarGradient() throws {
    try checkGradients([testValues([2, 3])]) { $0[0] * -3 }
    try checkGradients([testValues([2, 3])]) { 0.5 * $0[0] }
  }

  func testDivScalarGradient() throws {
    try checkGradients([testValues([2, 3])]) { $0[0] / 4 }
  }

  func testUnaryMinusGradient() throws {
    try checkGradients([testValues([2, 3])]) { -$0[0] }
  }

  // MARK: elementwise functions

  func testExpGradient() throws {
    try checkGradients([testValues([3, 4], low: -2, high: 2)]) { $0[0].exp() }
  }

  func testLogGradient() throws {
    try checkGradients([testValues([3, 4], low: 0.5, high: 3)]) { $0[0].log() }
  }

  func testLog1pGradient() throws {
    try checkGradients([testValues([3, 4], low: -0.5, high: 3)]) { $0[0].log1p() }
  }

  func testAbsGradient() throws {
    try checkGradients([valuesAwayFromZero([3, 4])]) { $0[0].abs() }
  }

  func testSignHasZeroGradient() throws {
    try checkGradients([valuesAwayFromZero([3, 4])]) { $0[0].sign() }
    let x = valuesAwayFromZero([3, 4]).requiringGrad()
    try (x.sign() * fixedRandomWeights([3, 4])).sum().backward()
    XCTAssertEqual(x.grad?.scalars, [Float](repeating: 0, count: 12))
  }

  func testSqrtGradient() throws {
    try checkGradients([testValues([3, 4], low: 0.5, high: 3)]) { $0[0].sqrt() }
  }

  func testReluGradient() throws {
    try checkGradients([valuesAwayFromZero([3, 4])]) { $0[0].relu() }
  }

  func testSigmoidGradient() throws {
    try checkGradients([testValues([3, 4], low: -4, high: 4)]) { $0[0].sigmoid() }
  }

  func testTanhGradient() throws {
    try checkGradients([testValues([3, 4], low: -2, high: 2)]) { $0[0].tanh() }
  }

  func testClampGradientPassesInsideAndBlocksOutside() throws {
    // Bounds ±0.5; no point within 0.05 of a bound.
    let x = try Tensor(shape: [2, 4], scalars: [-1.2, -0.8, -0.4, -0.1, 0.1, 0.3, 0.7, 1.1])
    try checkGradients([x]) { $0[0].clamp(min: -0.5, max: 0.5) }
  }

  func testReplacingNonFiniteGradientOnFiniteInputsIsIdentity() throws {
    try checkGradients([testValues([3, 4])]) { $0[0].replacingNonFinite(with: 7) }
  }

  func testWhereRoutesGradientToTheChosenSide() throws {
    let cond = try Tensor(shape: [2, 3], scalars: [1, 0, 0, 1, 2, 0])
    try checkGradients([testValues([2, 3], seed: 1), testValues([2, 3], seed: 2)]) { try Tensor.where(cond, $0[0], $0[1]) }
  }

  // MARK: reductions

  func testSumGradient() throws {
    try checkGradients([testValues([3, 4])]) { $0[0].sum() }
  }

  func testMeanGradient() throws {
    try checkGradients([testValues([3, 4])]) { $0[0].mean() }
  }

  func testSumAlongAxisGradient() throws {
    for axis in [0, 1, 2, -1] {
      for keep in [false, true] {
        try checkGradients([testValues([2, 3, 4])], op: "sum(axis: \(axis), keepDim: \(keep))") {
          try $0[0].sum(axis: axis, keepDim: keep)
        }
      }
    }
  }

  func testMeanAlongAxisGradient() throws {
    for axis in [0, 1, 2, -1] {
      for keep in [false, true] {
        try checkGradients([testValues([2, 3, 4])], op: "mean(axis: \(axis), keepDim: \(keep))") {
          try $0[0].mean(axis: axis, keepDim: keep)
        }
      }
    }
  }

  // MARK: shape ops

  func testReshapedGradient() throws {
    try checkGradients([testValues([3, 4])]) { try $0[0].reshaped(to: [2, -1, 3]) }
  }

  func testRowsGradientIsZeroOutsideTheSlice() throws {
    try checkGradients([testValues([5, 3])]) { try $0[0].rows(1..<4) }
  }

  func testTransposedGradient() throws {
    try checkGradients([testValues([3, 4])]) { try $0[0].transposed() }
  }

  // MARK: matmul

  func testMatmulGradient() throws {
    try checkGradients([testValues([3, 4], seed: 1), testValues([4, 2], seed: 2)]) { try Tensor.matmul($0[0], $0[1]) }
  }

  func testMatmulTransposedAGradient() throws {
    try checkGradients([testValues([4, 3], seed: 1), testValues([4, 2], seed: 2)]) {
      try Tensor.matmul($0[0], $0[1], transposeA: true)
    }
  }

  func testMatmulTransposedBGradient() throws {
    try checkGradients([testValues([3, 4], seed: 1), testValues([2, 4], seed: 2)]) {
      try Tensor.matmul($0[0], $0[1], transposeB: true)
    }
  }

  func testMatmulTransposedAAndBGradient() throws {
    try checkGradients([testValues([4, 3], seed: 1), testValues([2, 4], seed: 2)]) {
      try Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true)
    }
  }

  // MARK: concat, split, gather

  func testConcatLastAxisGradient() throws {
    try checkGradients([testValues([3, 2], seed: 1), testValues([3, 4], seed: 2), testValues([3, 1], seed: 3)]) {
      try Tensor.concat($0, axis: -1)
    }
  }

  func testConcatFirstAxisGradient() throws {
    try checkGradients([testValues([2, 3], seed: 1), testValues([1, 3], seed: 2), testValues([3, 3], seed: 3)]) {
      try Tensor.concat($0, axis: 0)
    }
  }

  func testConcatWithAnEmptyPartGradient() throws {
    try checkGradients([testValues([3, 2], seed: 1), Tensor.zeros([3, 0]), testValues([3, 1], seed: 3)]) {
      try Tensor.concat($0, axis: -1)
    }
  }

  func testSplitLastAxisGradient() throws {
    try checkGradients([testValues([3, 6])]) { xs in
      let parts = try xs[0].split([2, 1, 3], axis: -1)
      // Reorder and scale the pieces so each piece's gradient is distinct.
      return try Tensor.concat([parts[2], parts[0] * 2, -parts[1]], axis: -1)
    }
  }

  func testSplitFirstAxisGradient() throws {
    try checkGradients([testValues([5, 2])]) { xs in
      let parts = try xs[0].split([3, 2], axis: 0)
      return try Tensor.concat([parts[1].exp(), parts[0]], axis: 0)
    }
  }

  func testSplitPiecesUsedSeparatelyGradient() throws {
    try checkGradients([testValues([2, 5])]) { xs in
      let parts = try xs[0].split([2, 3], axis: 1)
      return try parts[0].sum() + parts[1].tanh().sum() * 3
    }
  }

  func testGatherRowsGradientAccumulatesRepeatedIndices() throws {
    let idx = IndexTensor([2, 0, 2, 2, 3])
    try checkGradients([testValues([4, 3])]) { try $0[0].gatherRows(idx) }
  }

  func testIndexSelectLastAxisGradientAccumulatesRepeatedIndices() throws {
    let idx = IndexTensor([3, 1, 3, 0])
    try checkGradients([testValues([2, 3, 4])]) { try $0[0].indexSelect(axis: -1, idx) }
  }

  func testIndexSelectFirstAxisGradient() throws {
    let idx = IndexTensor([1, 1, 0])
    try checkGradients([testValues([2, 3])]) { try $0[0].indexSelect(axis: 0, idx) }
  }

  // MARK: linear

  func testLinearWithBiasGradient() throws {
    try checkGradients([testValues([3, 5], seed: 1), testValues([4, 5], seed: 2), testValues([4], seed: 3)]) {
      try Tensor.linear($0[0], weight: $0[1], bias: $0[2])
    }
  }

  func testLinearWithoutBiasGradient() throws {
    try checkGradients([testValues([3, 5], seed: 1), testValues([4, 5], seed: 2)]) {
      try Tensor.linear($0[0], weight: $0[1], bias: nil)
    }
  }

  func testLinearWithRank3InputGradient() throws {
    try checkGradients([testValues([2, 3, 5], seed: 1), testValues([4, 5], seed: 2), testValues([4], seed: 3)]) {
      try Tensor.linear($0[0], weight: $0[1], bias: $0[2])
    }
  }

  // MARK: normalisation

  func testLayerNormWithWeightAndBiasGradient() throws {
    try checkGradients([testValues([3, 5], low: -2, high: 2, seed: 1), testValues([5], low: 0.5, high: 1.5, seed: 2), testValues([5], seed: 3)]) {
      try Tensor.layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5)
    }
  }

  func testLayerNormWithoutWeightAndBiasGradient() throws {
    try checkGradients([testValues([3, 5], low: -2, high: 2, seed: 1)]) {
      try Tensor.layerNorm($0[0], weight: nil, bias: nil, eps: 1e-5)
    }
  }

  func testLayerNormWithWeightOnlyGradient() throws {
    try checkGradients([testValues([2, 2, 4], low: -2, high: 2, seed: 1), testValues([4], low: 0.5, high: 1.5, seed: 2)]) {
      try Tensor.layerNorm($0[0], weight: $0[1], bias: nil, eps: 1e-5)
    }
  }

  func testLayerNormWithBiasOnlyGradient() throws {
    try checkGradients([testValues([3, 4], low: -2, high: 2, seed: 1), testValues([4], seed: 3)]) {
      try Tensor.layerNorm($0[0], weight: nil, bias: $0[1], eps: 1e-5)
    }
  }

  func testBatchNormTrainingGradient() throws {
    try checkGradients([testValues([5, 3], low: -2, high: 2, seed: 1), testValues([3], low: 0.5, high: 1.5, seed: 2), testValues([3], seed: 3)]) {
      try Tensor.batchNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5, training: true, runningMean: nil, runningVar: nil).0
    }
  }

  func testBatchNormTrainingWithoutAffineGradient() throws {
    try checkGradients([testValues([4, 3], low: -2, high: 2, seed: 1)]) {
      try Tensor.batchNorm($0[0], weight: nil, bias: nil, eps: 1e-5, training: true, runningMean: nil, runningVar: nil).0
    }
  }

  func testBatchNormEvalGradient() throws {
    let runningMean = Tensor([0.1, -0.2, 0.3])
    let runningVar = Tensor([0.5, 1.5, 2.0])
    try checkGradients([testValues([4, 3], low: -2, high: 2, seed: 1), testValues([3], low: 0.5, high: 1.5, seed: 2), testValues([3], seed: 3)]) {
      try Tensor.batchNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5, training: false, runningMean: runningMean, runningVar: runningVar).0
    }
  }

  // MARK: loss, dropout, embedding bag

  func checkBCE(_ reduction: Reduction, file: StaticString = #filePath, line: UInt = #line) throws {
    let labels = try Tensor(shape: [3, 4], scalars: [1, 0, 1, 1, 0, 0, 1, 0, 0.3, 1, 0, 0.8])
    let weight = testValues([3, 4], low: 0.2, high: 2, seed: 8)
    let posWeight = Tensor([0.5, 1, 2, 3])
    try checkGradients([testValues([3, 4], low: -3, high: 3)], op: "bceWithLogits(\(reduction)) weighted", file: file, line: line) {
      try Tensor.bceWithLogits($0[0], labels: labels, weight: weight, posWeight: posWeight, reduction: reduction)
    }
    try checkGradients([testValues([3, 4], low: -3, high: 3)], op: "bceWithLogits(\(reduction)) unweighted", file: file, line: line) {
      try Tensor.bceWithLogits($0[0], labels: labels, reduction: reduction)
    }
  }

  func testBCEWithLogitsNoReductionGradient() throws { try checkBCE(.none) }
  func testBCEWithLogitsMeanReductionGradient() throws { try checkBCE(.mean) }
  func testBCEWithLogitsSumReductionGradient() throws { try checkBCE(.sum) }

  func testBCEWithLogitsBackwardDoesNotNeedTheCallerToKeepItsInputsAlive() throws {
    // Logits, labels and weights passed as temporaries; the pool then recycles their
    // buffers before backward runs. The gradient must still be w·[(1 − y) − (1 + (p − 1)y)·σ(−z)].
    let z: [Float] = [-1.5, -0.2, 0.4, 2.0, 0.9, -3.0], y: [Float] = [1, 0, 1, 0, 0.5, 1]
    let w: [Float] = [1, 2, 0.5, 1.5, 1, 3], p: [Float] = [2, 0.5, 1]
    let x = try Tensor(shape: [2, 3], scalars: z).requiringGrad()
    let loss = try Tensor.bceWithLogits(
      x * 1, labels: try Tensor(shape: [2, 3], scalars: y), weight: try Tensor(shape: [2, 3], scalars: w),
      posWeight: Tensor(p), reduction: .sum)
    let churn = (0..<16).map { _ in Tensor.full(1000, shape: [2, 3]) }
    try loss.backward()
    withExtendedLifetime(churn) {}
    let expected = (0..<6).map { i -> Float in
      let l = 1 + (p[i % 3] - 1) * y[i]
      return w[i] * ((1 - y[i]) - l * Tensor.sigmoid(-z[i]))
    }
    assertClose(x.grad!.scalars, expected, tolerance: 1e-5, "bce gradient after the inputs were released")
  }

  func testDropoutGradientUsesTheForwardMask() throws {
    try checkGradients([testValues([4, 5])]) { xs in
      var rng = RandomGenerator(seed: 7)
      return try xs[0].dropout(probability: 0.4, using: &rng)
    }
  }

  static let bagIndices = IndexTensor([0, 2, 2, 5, 1, 3, 0])
  static let bagOffsets = IndexTensor([0, 3, 3, 5])  // bags: {0,2,2}, {}, {5,1}, {3,0}

  func checkEmbeddingBagBackward(_ mode: BagMode, file: StaticString = #filePath, line: UInt = #line) throws {
    let table = testValues([6, 3])
    let (pooled, ranges) = try table.embeddingBag(indices: Self.bagIndices, offsets: Self.bagOffsets, mode: mode)
    let upstream = fixedRandomWeights(pooled.shape)
    let sparse = Tensor.embeddingBagBackward(upstream, indices: Self.bagIndices, ranges: ranges, mode: mode)
    let numeric = try finiteDifferenceGradients([table]) { xs in
      let pooled = try xs[0].embeddingBag(indices: Self.bagIndices, offsets: Self.bagOffsets, mode: mode).0
      return try (pooled * upstream).sum().item!
    }
    assertGradientsMatch(analytic: [sparse.dense(numRows: 6).scalars], numeric: numeric, op: "embeddingBag(\(mode))",
                         tolerance: 2e-2, file: file, line: line)
  }

  func testEmbeddingBagSumBackwardMatchesFiniteDifferences() throws { try checkEmbeddingBagBackward(.sum) }
  func testEmbeddingBagMeanBackwardMatchesFiniteDifferences() throws { try checkEmbeddingBagBackward(.mean) }

  func testEmbeddingBagBackwardListsOnlyLookedUpRowsAscending() throws {
    let table = testValues([6, 3])
    let (pooled, ranges) = try table.embeddingBag(indices: Self.bagIndices, offsets: Self.bagOffsets, mode: .sum)
    let sparse = Tensor.embeddingBagBackward(Tensor.ones(pooled.shape), indices: Self.bagIndices, ranges: ranges, mode: .sum)
    XCTAssertEqual(sparse.rows, [0, 1, 2, 3, 5])
    XCTAssertEqual(sparse.values.shape, [5, 3])
    // Row 0 appears twice, row 2 twice (same bag), others once.
    XCTAssertEqual(sparse.values.scalars, [2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1])
  }

  func testEmbeddingBagEmptyBagPoolsToZeros() throws {
    let table = testValues([6, 3])
    for mode in [BagMode.sum, .mean] {
      let (pooled, _) = try table.embeddingBag(indices: Self.bagIndices, offsets: Self.bagOffsets, mode: mode)
      XCTAssertEqual(pooled.shape, [4, 3])
      XCTAssertEqual(try pooled.rows(1..<2).scalars, [0, 0, 0], "\(mode)")
    }
  }

  // MARK: composite graph

  func testCompositeMLPGradient() throws {
    try checkGradients([testValues([4, 3], seed: 1), testValues([5, 3], seed: 2), testValues([5], seed: 3), testValues([1, 5], seed: 4)]) { p in
      let h = try Tensor.linear(p[0], weight: p[1], bias: p[2]).tanh()
      let z = try Tensor.linear(h, weight: p[3], bias: nil)
      return try (z.sigmoid() * z).mean(axis: 0)
    }
  }
}
