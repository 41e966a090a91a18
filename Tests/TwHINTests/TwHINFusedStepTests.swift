import Foundation
import TMLNN
import TMLTensor
import XCTest
@testable import TwHIN

/// The trainer's explicit kernels (`TwHINFusedStep`) make the same update as `TwHINLoss`
/// + autograd, for every table optimizer, shared tables and global negatives.
final class TwHINFusedStepTests: XCTestCase {
  func trainedState(fused: Bool, dim: Int, optimizers: [TableOptimizerSpec], translation: TranslationOptimizerSpec,
                    steps: Int = 3) throws -> (losses: [Float], state: [[Float]]) {
    let schema = try TwHINFixtures.goldenSchema()  // includes follow user → user
    let model = try TwHINModel(schema: schema, dim: dim, embeddingInit: .normal(std: 0.3), seed: 5)
    let trainer = try TwHINTrainer(model: model, loss: try TwHINLoss(inBatchNegatives: 3, globalNegatives: 2),
                                   tableOptimizers: optimizers, translationOptimizer: translation, seed: 7)
    trainer.useFusedKernels = fused
    var rng = RandomGenerator(seed: 11)
    var losses: [Float] = []
    for _ in 0..<steps {
      let n = 24
      let rel = (0..<n).map { _ in rng.int(below: 4) }
      let lhs = rel.map { r in rng.int(below: schema.tables[schema.lhsTable[r]].numEmbeddings) }
      let rhs = rel.map { r in rng.int(below: schema.tables[schema.rhsTable[r]].numEmbeddings) }
      losses.append(try trainer.step(try EdgeBatch(lhs: lhs, relations: rel, rhs: rhs, schema: schema)).loss)
    }
    let opt = trainer.optimizerStateDict().entries.map { $0.1.tensor.scalars }
    return (losses, model.stateDict().entries.map { $0.1.tensor.scalars } + opt)
  }

  func assertSame(dim: Int, _ optimizers: [TableOptimizerSpec], _ translation: TranslationOptimizerSpec, file: StaticString = #filePath, line: UInt = #line) throws {
    let a = try trainedState(fused: true, dim: dim, optimizers: optimizers, translation: translation)
    let b = try trainedState(fused: false, dim: dim, optimizers: optimizers, translation: translation)
    assertClose(a.losses, b.losses, abs: 1e-6, rel: 1e-5, "losses", file: file, line: line)
    XCTAssertEqual(a.state.count, b.state.count, file: file, line: line)
    for (x, y) in zip(a.state, b.state) { assertClose(x, y, abs: 2e-6, rel: 2e-5, "parameters and optimizer state", file: file, line: line) }
  }

  func testFusedStepEqualsAutogradWithSGDAndAdagrads() throws {
    try assertSame(dim: 4, [.sgd(.constant(0.3)), .adagrad(.constant(0.2)), .rowWiseAdagrad(.constant(0.2))], .sgd(.constant(0.1), momentum: 0.5))
  }

  func testFusedStepEqualsAutogradWithAdamAndAWideDimension() throws {
    try assertSame(dim: 40, [.adam(.constant(0.01)), .rowWiseAdagrad(.constant(0.1)), .sgd(.constant(0.1))], .adam(.constant(0.01)))
    try assertSame(dim: 40, [.rowWiseAdagrad(.constant(0.1)), .adagrad(.constant(0.1)), .sgd(.constant(0.1))], .adagrad(.constant(0.05)))
  }

  func testSlotMapGivesEachIDOneSlotAndClears() {
    var m = SlotMap()
    m.reset(expected: 10)
    var next: Int32 = 0
    var seen: [Int: Int32] = [:]
    for id in [5, 1 << 40, 5, 0, 77, 1 << 40, 64, 128] {
      let (s, inserted) = m.slot(for: id, next: next)
      if inserted { next += 1; seen[id] = s } else { XCTAssertEqual(seen[id], s) }
    }
    XCTAssertEqual(next, 6)
    m.reset(expected: 10)
    XCTAssertEqual(m.slot(for: 5, next: 0).inserted, true)
  }
}

extension TwHINFusedStepTests {
  func testSoftplusAndSigmoidMatchLibmEverywhere() {
    var worst: Double = 0
    for i in -4000...4000 {
      let z = Float(i) * 0.01
      let (sp, sig) = softplusNegAndSigmoid(z)
      let wantSp = Double(max(-z, 0)) + Foundation.log1p(Foundation.exp(-Double(abs(z))))
      let wantSig = 1 / (1 + Foundation.exp(-Double(z)))
      worst = max(worst, abs(Double(sp) - wantSp) / max(wantSp, 1e-30), abs(Double(sig) - wantSig) / wantSig)
    }
    XCTAssertLessThan(worst, 1e-6)
    XCTAssertEqual(softplusNegAndSigmoid(-200).0, 200)
    XCTAssertEqual(softplusNegAndSigmoid(200).1, 1)
    XCTAssertLessThan(softplusNegAndSigmoid(-200).1, 1e-30)
  }
}

extension TwHINFusedStepTests {
  func testFastExpIsAccurateOnTheNonPositiveAxis() {
    var worst: Double = 0
    for i in 0...86_900 {
      let x = -Float(i) * 0.001
      let want = Foundation.exp(Double(x))
      worst = max(worst, abs(Double(expNonPositive(x)) - want) / want)
    }
    XCTAssertLessThan(worst, 3e-7)
    XCTAssertEqual(expNonPositive(0), 1)
    XCTAssertGreaterThanOrEqual(expNonPositive(-1000), 0)
    XCTAssertTrue(expNonPositive(.nan).isNaN)
    XCTAssertTrue(softplusNegAndSigmoid(.nan).0.isNaN)
  }
}

extension TwHINFusedStepTests {
  func testParallelRowUpdatesAreBitwiseTheOptimizersOwn() throws {
    var rng = RandomGenerator(seed: 4)
    let rows = Array(Set((0..<900).map { _ in rng.int(below: 5000) }))
    let values = Tensor.normal([rows.count, 96], using: &rng)
    let g = SparseRowGradient(rows: rows, values: values)
    for make in [{ SparseSGD(learningRate: .constant(0.1)) as any SparseRowOptimizer }, { RowWiseAdagrad(learningRate: .constant(0.1)) }] {
      let a = Parameter(Tensor.normal([5000, 96], using: &rng)), b = Parameter(a.value.detached())
      let (oa, ob) = (make(), make())
      for _ in 0..<2 {
        try oa.apply(to: a, gradient: g)
        XCTAssertTrue(try TwHINFusedStep.applyInParallel(ob, to: b, g))
      }
      XCTAssertEqual(a.value.scalars, b.value.scalars)
      XCTAssertEqual(oa.iteration, ob.iteration)
      XCTAssertEqual(oa.state.mapValues(\.scalars), ob.state.mapValues(\.scalars))
    }
    XCTAssertFalse(try TwHINFusedStep.applyInParallel(SparseAdam(learningRate: .constant(0.1)), to: Parameter(Tensor.zeros([5000, 96])), g))
  }
}

extension TwHINFusedStepTests {
  func testManyGlobalNegativesFitTheRowMapAndMatchAutograd() throws {
    let schema = try TwHINFixtures.goldenSchema()
    var states: [[Float]] = []
    for fused in [true, false] {
      let model = try TwHINModel(schema: schema, dim: 3, embeddingInit: .normal(std: 0.3), seed: 5)
      let trainer = try TwHINTrainer(model: model, loss: try TwHINLoss(inBatchNegatives: 1, globalNegatives: 300),
                                     tableOptimizers: Array(repeating: .rowWiseAdagrad(.constant(0.1)), count: 3),
                                     translationOptimizer: .sgd(.constant(0.1)), seed: 1)
      trainer.useFusedKernels = fused
      try trainer.step(try EdgeBatch(lhs: [0, 1, 2], relations: [0, 1, 2], rhs: [3, 4, 1], schema: schema))
      states.append(model.stateDict().entries.flatMap { $0.1.tensor.scalars })
    }
    assertClose(states[0], states[1], abs: 2e-6, rel: 2e-5, "300 global negatives per side")
  }
}
