import Foundation
import TMLNN
import TMLTensor
import XCTest

final class OptimizerTests: XCTestCase {

  // MARK: learning-rate schedules

  private func assertRates(_ s: LearningRateSchedule, _ expected: [(Int, Float)], accuracy: Float = 1e-6,
                           file: StaticString = #filePath, line: UInt = #line) {
    for (step, rate) in expected {
      XCTAssertEqual(s.rate(at: step), rate, accuracy: accuracy, "\(s) at step \(step)", file: file, line: line)
    }
  }

  func testConstantScheduleIsTheSameAtEveryStep() {
    assertRates(.constant(0.25), [(0, 0.25), (1, 0.25), (1_000_000, 0.25)])
  }

  func testPiecewiseConstantSwitchesAtTheBoundaryStepLikeBisectRight() {
    let s = LearningRateSchedule.piecewiseConstant(boundaries: [10, 20], values: [1.0, 0.5, 0.1])
    // bisect_right: step == boundary already takes the next value.
    assertRates(s, [(0, 1.0), (9, 1.0), (10, 0.5), (11, 0.5), (19, 0.5), (20, 0.1), (1000, 0.1)])
  }

  func testLinearRampToConstantRampsThenHolds() {
    let s = LearningRateSchedule.linearRampToConstant(learningRate: 0.1, rampSteps: 10)
    assertRates(s, [(0, 0), (1, 0.01), (5, 0.05), (9, 0.09), (10, 0.1), (11, 0.1), (500, 0.1)])
    assertRates(.linearRampToConstant(learningRate: 0.3, rampSteps: 0), [(0, 0.3), (7, 0.3)])
  }

  func testLinearRampToCosineFollowsRampThenHalfCosineThenFloor() {
    let s = LearningRateSchedule.linearRampToCosine(learningRate: 1.0, finalLearningRate: 0.1, rampSteps: 10, finalSteps: 110)
    // f + (lr − f)·½(1 + cos(π·(step − 10)/100)); hand-computed.
    assertRates(s, [
      (0, 0),                // start of the ramp
      (5, 0.5),              // mid-ramp: lr/10 · 5
      (10, 1.0),             // ramp end: cos(0) = 1 → lr
      (35, 0.868_198_05),    // quarter: 0.1 + 0.45·(1 + cos(π/4))
      (60, 0.55),            // midway through the cosine: 0.1 + 0.9·½
      (85, 0.231_801_95),    // three quarters: 0.1 + 0.45·(1 − cos(π/4))
      (110, 0.1),            // final step: cos(π) = −1 → f
      (111, 0.1), (10_000, 0.1),  // beyond: f
    ])
  }

  func testInvalidSchedulesAreRejectedWithAClearMessage() {
    let tooFewValues = errorMessage("piecewise values") {
      try LearningRateSchedule.piecewiseConstant(boundaries: [10, 20], values: [1, 0.5]).validate("tower")
    }
    assertMentions(tooFewValues, ["tower", "one more", "(2)"])
    let decreasing = errorMessage("piecewise boundaries") {
      try LearningRateSchedule.piecewiseConstant(boundaries: [20, 10], values: [1, 0.5, 0.1]).validate()
    }
    assertMentions(decreasing, ["non-decreasing", "[20, 10]"])
    let cosine = errorMessage("cosine steps") {
      try LearningRateSchedule.linearRampToCosine(learningRate: 1, finalLearningRate: 0, rampSteps: 10, finalSteps: 5).validate()
    }
    assertMentions(cosine, ["final_num_steps (5)", "num_ramp_steps (10)"])
  }

  func testOptimizerRejectsAGroupWithAnInvalidSchedule() {
    let p = Parameter(Tensor.zeros([2]))
    let message = errorMessage("optimizer with invalid schedule") {
      try SGD(groups: [ParameterGroup(name: "dense", parameters: [("p", p)],
                                      schedule: .piecewiseConstant(boundaries: [5], values: [0.1]))])
    }
    assertMentions(message, ["parameter group dense", "piecewise_constant"])
  }

  // MARK: parameter groups

  func testEachParameterGroupUsesItsOwnLearningRate() throws {
    let a = Parameter(Tensor([1, 2])), b = Parameter(Tensor([3, 4]))
    let opt = try SGD(groups: [
      ParameterGroup(name: "moving", parameters: [("a", a)], schedule: .constant(0.1)),
      ParameterGroup(name: "frozen", parameters: [("b", b)], schedule: .constant(0.0)),
    ])
    XCTAssertEqual(opt.currentLearningRates, ["moving": 0.1, "frozen": 0.0])
    try setGradient(a, Tensor([1, -1]))
    try setGradient(b, Tensor([1, -1]))
    try opt.step()
    XCTAssertEqual(a.value.scalars[0], 0.9, accuracy: 1e-7)
    XCTAssertEqual(a.value.scalars[1], 2.1, accuracy: 1e-7)
    XCTAssertEqual(b.value.scalars, [3, 4])
    XCTAssertEqual(opt.iteration, 1)
  }

  func testScheduleIsEvaluatedAtTheOptimizerIteration() throws {
    let p = Parameter(Tensor([0]))
    let opt = try SGD(groups: [ParameterGroup(name: "all", parameters: [("p", p)],
                                              schedule: .piecewiseConstant(boundaries: [1, 2], values: [1, 10, 100]))])
    var seen: [Float] = []
    for _ in 0..<3 {
      let before = p.value.scalars[0]
      try setGradient(p, Tensor([-1]))
      try opt.step()
      seen.append(p.value.scalars[0] - before)
    }
    XCTAssertEqual(seen, [1, 10, 100])
  }

  func testParametersWithoutAGradientAreSkipped() throws {
    let a = Parameter(Tensor([1])), b = Parameter(Tensor([2]))
    let opt = try Adam(groups: [ParameterGroup(name: "all", parameters: [("a", a), ("b", b)], schedule: .constant(0.1))])
    try setGradient(a, Tensor([1]))
    try opt.step()
    XCTAssertNotEqual(a.value.scalars, [1])
    XCTAssertEqual(b.value.scalars, [2])
    XCTAssertNil(opt.state["b"])
    opt.zeroGrad()
    XCTAssertNil(a.grad)
  }

  func testAParameterInTwoGroupsIsRejected() {
    let p = Parameter(Tensor.zeros([3]))
    let message = errorMessage("duplicate parameter") {
      try Adam(groups: [
        ParameterGroup(name: "first", parameters: [("shared.weight", p)], schedule: .constant(0.1)),
        ParameterGroup(name: "second", parameters: [("shared.weight", p)], schedule: .constant(0.2)),
      ])
    }
    assertMentions(message, ["shared.weight", "more than one group", "second"])
  }

  // MARK: optimizer state save / restore

  private func adamRun(_ p: Parameter, _ opt: Adam, steps: Range<Int>) throws {
    for k in steps {
      try setGradient(p, seededTensor([2, 3], seed: UInt64(100 + k)))
      try opt.step()
    }
  }

  private let schedule = LearningRateSchedule.piecewiseConstant(boundaries: [2], values: [0.01, 0.001])

  func testAdamResumedFromItsStateDictContinuesExactlyLikeAnUninterruptedRun() throws {
    let initial = seededTensor([2, 3], seed: 1)
    // Uninterrupted: three steps.
    let straight = Parameter(initial)
    let a = try Adam(groups: [ParameterGroup(name: "all", parameters: [("w", straight)], schedule: schedule)])
    try adamRun(straight, a, steps: 0..<3)

    // Interrupted after two steps; state saved through safetensors, restored into a fresh optimizer.
    let first = Parameter(initial)
    let b = try Adam(groups: [ParameterGroup(name: "all", parameters: [("w", first)], schedule: schedule)])
    try adamRun(first, b, steps: 0..<2)
    let saved = b.stateDict()
    XCTAssertEqual(saved.names, ["w.exp_avg", "w.exp_avg_sq", "w.step", "__optimizer__.iteration"])
    XCTAssertEqual(saved["__optimizer__.iteration"]?.dtype, .i64)
    var writer = SafetensorsWriter()
    writer.add(saved)
    let file = try SafetensorsFile(data: writer.encoded(), source: "optimizer")

    let resumed = Parameter(first.value.detached())
    let c = try Adam(groups: [ParameterGroup(name: "all", parameters: [("w", resumed)], schedule: schedule)])
    try c.loadStateDict(try file.stateDict())
    XCTAssertEqual(c.iteration, 2)
    XCTAssertEqual(c.currentLearningRates["all"], 0.001)
    try adamRun(resumed, c, steps: 2..<3)

    assertIdentical(resumed.value, straight.value, "resumed parameter")
    assertIdentical(try XCTUnwrap(c.state["w"]?["exp_avg"]), try XCTUnwrap(a.state["w"]?["exp_avg"]), "exp_avg")
    assertIdentical(try XCTUnwrap(c.state["w"]?["exp_avg_sq"]), try XCTUnwrap(a.state["w"]?["exp_avg_sq"]), "exp_avg_sq")
    XCTAssertEqual(c.state["w"]?["step"]?.item, 3)
  }

  func testOptimizerStateDictIsASnapshotThatLaterStepsDoNotChange() throws {
    let p = Parameter(seededTensor([2, 3], seed: 1))
    let opt = try Adam(groups: [ParameterGroup(name: "all", parameters: [("w", p)], schedule: .constant(0.1))])
    try adamRun(p, opt, steps: 0..<1)
    let snapshot = opt.stateDict()
    let expAvg = try XCTUnwrap(snapshot["w.exp_avg"]).tensor.scalars
    try adamRun(p, opt, steps: 1..<3)
    XCTAssertEqual(try XCTUnwrap(snapshot["w.exp_avg"]).tensor.scalars, expAvg)
    XCTAssertEqual(try XCTUnwrap(snapshot["w.step"]).tensor.item, 1)
    XCTAssertEqual(try XCTUnwrap(snapshot["__optimizer__.iteration"]).tensor.item, 1)
  }

  func testLoadingOptimizerStateForAnotherModelThrows() throws {
    let p = Parameter(Tensor.zeros([2]))
    let opt = try Adam(groups: [ParameterGroup(name: "all", parameters: [("w", p)], schedule: .constant(0.1))])
    var d = StateDict()
    d["other.exp_avg"] = .init(Tensor.zeros([2]))
    let message = errorMessage("foreign state") { try opt.loadStateDict(d, origin: "opt.safetensors") }
    assertMentions(message, ["opt.safetensors", "other.exp_avg", "another model"])
  }

  func testLoadingOptimizerStateWithAWrongShapeThrows() throws {
    let p = Parameter(Tensor.zeros([2, 3]))
    let opt = try Adam(groups: [ParameterGroup(name: "all", parameters: [("w", p)], schedule: .constant(0.1))])
    var d = StateDict()
    d["w.exp_avg"] = .init(Tensor.zeros([2]))
    d["w.exp_avg_sq"] = .init(Tensor.zeros([2]))
    d["w.step"] = .init(Tensor(scalar: 1))
    let message = errorMessage("wrong-shaped optimizer state") { try opt.loadStateDict(d, origin: "opt.safetensors") }
    assertMentions(message, ["opt.safetensors", "w.exp_avg", "[2]", "[2, 3]"])
  }

  // MARK: sparse (embedding) optimizers

  /// A 6×3 table, bags [1, 3] and [1]: row 1 gets g₀ + g₁, row 3 gets g₀ (sum mode).
  private let indices = IndexTensor([1, 3, 1])
  private let offsets = IndexTensor([0, 2])
  private let upstream = try! Tensor(shape: [2, 3], scalars: [0.5, -1.0, 2.0, 0.25, 0.75, -1.5])

  private func makeTable() -> EmbeddingBag {
    var rng = RandomGenerator(seed: 5)
    return EmbeddingBag(6, 3, mode: .sum, rng: &rng)
  }

  /// The expected row gradients for `upstream`: row → [3].
  private var rowGradients: [Int: [Float]] {
    let g = upstream.scalars
    return [1: [g[0] + g[3], g[1] + g[4], g[2] + g[5]], 3: [g[0], g[1], g[2]]]
  }

  private func row(_ t: Tensor, _ r: Int) -> [Float] { Array(t.scalars[(r * 3)..<(r * 3 + 3)]) }

  private func backward(_ table: EmbeddingBag) throws {
    let out = try table(indices: indices, offsets: offsets)
    try out.backward(gradient: upstream)
  }

  func testRowWiseAdagradFusedInEmbeddingBagUpdatesOnlyTheLookedUpRows() throws {
    let table = makeTable()
    let opt = RowWiseAdagrad(learningRate: .constant(0.1), eps: 1e-8)
    table.fuse(opt)
    let before = table.weight.value.scalars
    try backward(table)
    let after = table.weight.value
    let w0 = try Tensor(shape: [6, 3], scalars: before)
    for r in [0, 2, 4, 5] { XCTAssertEqual(row(after, r), row(w0, r), "row \(r) was not looked up") }
    let acc = try XCTUnwrap(opt.state["momentum1"])
    XCTAssertEqual(acc.shape, [6])
    for r in 0..<6 {
      guard let g = rowGradients[r] else { XCTAssertEqual(acc.scalars[r], 0, "accumulator of row \(r)"); continue }
      let meanSquare = g.map { $0 * $0 }.reduce(0, +) / 3
      XCTAssertEqual(acc.scalars[r], meanSquare, accuracy: 1e-6 * max(1, meanSquare), "accumulator of row \(r)")
      let scale = 0.1 / (meanSquare.squareRoot() + 1e-8)
      for j in 0..<3 {
        XCTAssertEqual(row(after, r)[j], row(w0, r)[j] - scale * g[j], accuracy: 1e-6, "W[\(r), \(j)]")
      }
    }
    XCTAssertNil(table.sparseGradient, "a fused optimizer keeps no gradient")
    XCTAssertNil(table.weight.grad)
    XCTAssertEqual(opt.iteration, 1)
  }

  func testRowWiseAdagradAccumulatesAcrossSteps() throws {
    let table = makeTable()
    let opt = RowWiseAdagrad(learningRate: .constant(0.1), eps: 1e-8)
    table.fuse(opt)
    let w0 = table.weight.value.scalars
    try backward(table)
    try backward(table)
    let g = try XCTUnwrap(rowGradients[3])
    let ms = g.map { $0 * $0 }.reduce(0, +) / 3
    XCTAssertEqual(try XCTUnwrap(opt.state["momentum1"]).scalars[3], 2 * ms, accuracy: 1e-6)
    let expected = (0..<3).map { j in w0[9 + j] - 0.1 * g[j] / ms.squareRoot() - 0.1 * g[j] / (2 * ms).squareRoot() }
    for j in 0..<3 { XCTAssertEqual(table.weight.value.scalars[9 + j], expected[j], accuracy: 1e-6) }
    XCTAssertEqual(opt.iteration, 2)
  }

  func testSparseAdagradMatchesHandComputationOverTwoSteps() throws {
    let table = makeTable()
    let opt = SparseAdagrad(learningRate: .constant(0.5), eps: 1e-10)
    table.fuse(opt)
    let w0 = table.weight.value.scalars
    try backward(table)
    try backward(table)
    let sum = try XCTUnwrap(opt.state["sum"])
    XCTAssertEqual(sum.shape, [6, 3])
    for r in 0..<6 {
      for j in 0..<3 {
        let at = r * 3 + j
        guard let g = rowGradients[r]?[j] else {
          XCTAssertEqual(table.weight.value.scalars[at], w0[at], "untouched W[\(r), \(j)]")
          XCTAssertEqual(sum.scalars[at], 0)
          continue
        }
        XCTAssertEqual(sum.scalars[at], 2 * g * g, accuracy: 1e-6)
        let expected = w0[at] - 0.5 * g / abs(g) - 0.5 * g / (2 * g * g).squareRoot()
        XCTAssertEqual(table.weight.value.scalars[at], expected, accuracy: 1e-6, "W[\(r), \(j)]")
      }
    }
  }

  func testSparseSGDFollowsItsScheduleOnTheLookedUpRows() throws {
    let table = makeTable()
    let opt = SparseSGD(learningRate: .piecewiseConstant(boundaries: [1], values: [0.1, 0.01]))
    table.fuse(opt)
    let w0 = table.weight.value.scalars
    try backward(table)
    try backward(table)
    for r in 0..<6 {
      for j in 0..<3 {
        let at = r * 3 + j
        let g = rowGradients[r]?[j] ?? 0
        XCTAssertEqual(table.weight.value.scalars[at], w0[at] - 0.1 * g - 0.01 * g, accuracy: 1e-6, "W[\(r), \(j)]")
      }
    }
    XCTAssertEqual(opt.iteration, 2)
  }

  func testEmbeddingBagWithoutAFusedOptimizerAccumulatesSparseGradients() throws {
    let table = makeTable()
    let w0 = table.weight.value.scalars
    // First backward touches rows 0 and 2, the second rows 2 and 5.
    let g1 = try Tensor(shape: [1, 3], scalars: [1, 2, 3])
    try table(indices: IndexTensor([0, 2]), offsets: IndexTensor([0])).backward(gradient: g1)
    let g2 = try Tensor(shape: [2, 3], scalars: [10, 20, 30, 40, 50, 60])
    try table(indices: IndexTensor([2, 5]), offsets: IndexTensor([0, 1])).backward(gradient: g2)
    let sparse = try XCTUnwrap(table.sparseGradient)
    XCTAssertEqual(sparse.rows, [0, 2, 5])
    XCTAssertEqual(sparse.values.shape, [3, 3])
    XCTAssertEqual(sparse.values.scalars, [1, 2, 3, 11, 22, 33, 40, 50, 60])
    let dense = sparse.dense(numRows: 6).scalars
    XCTAssertEqual(dense, [1, 2, 3, 0, 0, 0, 11, 22, 33, 0, 0, 0, 0, 0, 0, 40, 50, 60])
    XCTAssertEqual(table.weight.value.scalars, w0, "without an optimizer the table does not move")
    table.zeroSparseGrad()
    XCTAssertNil(table.sparseGradient)
  }

  func testSparseOptimizerRejectsRowsOutsideTheTable() {
    let p = Parameter(Tensor.zeros([4, 2]))
    let g = SparseRowGradient(rows: [7], values: Tensor.ones([1, 2]))
    let message = errorMessage("row out of range") { try SparseSGD(learningRate: .constant(1)).apply(to: p, gradient: g) }
    assertMentions(message, ["row 7", "4 rows"])
  }
}
