import CKernels
import XCTest
@testable import TMLTensor

/// bf16 inference products (`Tensor.linear(_:bf16Weight:bias:)`, Sources/CKernels/gemm_bf16.c)
/// on the AVX-512 BF16 kernel where this CPU has it and on the fp32 fallback everywhere:
/// against a float64 sum of the bf16-rounded operands (tight: fp32 summation error only)
/// and against the unrounded fp32 product (loose: bf16 rounding), with partial row tiles,
/// partial panels, odd k and k past one 512-deep block.
final class BF16GEMMTests: XCTestCase {
  /// (m, n, k): tails of rows (8-row tiles), columns (32-column panels) and k (pairs, 512 blocks).
  let shapes = [(1, 1, 1), (3, 5, 2), (7, 33, 3), (9, 31, 513), (17, 65, 1025), (8, 32, 512), (13, 64, 1031)]

  /// The paths this CPU runs: the fp32 fallback, and VDPBF16PS when available.
  var paths: [Bool] { BF16PackedMatrix.instructionsAvailable ? [false, true] : [false] }

  override func tearDown() { Parallelism.threadCount = ProcessInfo.processInfo.activeProcessorCount }

  func values(_ count: Int, seed: UInt64) -> [Float] {
    var rng = RandomGenerator(seed: seed)
    return (0..<count).map { _ in rng.uniform() * 2 - 1 }
  }

  func bf16(_ v: [Float]) -> [Float] {
    var out = v
    tml_round_to_bf16(v, &out, v.count)
    return out
  }

  /// y[i, j] = b[j] + Σ_q x[i, q]·w[j, q] in Double, and Σ |x||w| (+ |b|) for error bounds.
  func reference(m: Int, n: Int, k: Int, x: [Float], w: [Float], b: [Float]?) -> (sum: [Double], magnitude: [Double]) {
    var sum = [Double](repeating: 0, count: m * n), mag = sum
    for i in 0..<m {
      for j in 0..<n {
        var s = b.map { Double($0[j]) } ?? 0, a = abs(s)
        for q in 0..<k {
          let p = Double(x[i * k + q]) * Double(w[j * k + q])
          s += p
          a += abs(p)
        }
        (sum[i * n + j], mag[i * n + j]) = (s, a)
      }
    }
    return (sum, mag)
  }

  func product(m: Int, n: Int, k: Int, x: [Float], w: [Float], b: [Float]?, instructions: Bool) throws -> [Float] {
    let matrix = try BF16PackedMatrix(transposing: Tensor(shape: [n, k], scalars: w), useInstructions: instructions)
    XCTAssertEqual(matrix.usesBF16Instructions, instructions)
    let y = try noGrad {
      try Tensor.linear(Tensor(shape: [m, k], scalars: x), bf16Weight: matrix, bias: b.map { try Tensor(shape: [n], scalars: $0) })
    }
    XCTAssertEqual(y.shape, [m, n])
    return y.scalars
  }

  func testRoundingToBF16IsToNearestTiesToEven() {
    let one = Float(1), ulp = Float(sign: .plus, exponent: -7, significand: 1)  // bf16 spacing at 1
    XCTAssertEqual(bf16([one + ulp / 2]), [one], "tie: down to the even mantissa")
    XCTAssertEqual(bf16([one + ulp * 1.5]), [one + 2 * ulp], "tie: up to the even mantissa")
    XCTAssertEqual(bf16([one + ulp * 0.5001]), [one + ulp], "above the tie: up")
    XCTAssertEqual(bf16([-(one + ulp * 1.5)]), [-(one + 2 * ulp)], "negative ties as positive ones")
    XCTAssertEqual(bf16([Float.greatestFiniteMagnitude]), [Float.infinity], "overflow rounds to infinity")
    XCTAssertTrue(bf16([Float.nan])[0].isNaN)
  }

  /// Products of bf16 values are exact in fp32, so the only error left is fp32 summation:
  /// |Δ| ≤ (k + 1)·2⁻²⁴·Σ|x||w|, far below bf16's 2⁻⁸ relative rounding of the operands.
  func testProductEqualsFloat64SumOfBF16RoundedOperands() throws {
    for instructions in paths {
      for (s, (m, n, k)) in shapes.enumerated() {
        let (x, w, b) = (values(m * k, seed: UInt64(s)), values(n * k, seed: UInt64(100 + s)), values(n, seed: UInt64(200 + s)))
        for bias in [nil, b] {
          let ref = reference(m: m, n: n, k: k, x: bf16(x), w: bf16(w), b: bias)
          let y = try product(m: m, n: n, k: k, x: x, w: w, b: bias, instructions: instructions)
          for i in 0..<(m * n) {
            let bound = Double(k + 1) * 0x1p-24 * ref.magnitude[i]
            XCTAssertLessThanOrEqual(abs(Double(y[i]) - ref.sum[i]), bound,
                                     "instructions \(instructions) m \(m) n \(n) k \(k) bias \(bias != nil) element \(i)")
          }
        }
      }
    }
  }

  /// Against the unrounded product the error is bf16's: within 2⁻⁷·Σ|x||w| (each operand off
  /// by at most 2⁻⁹ relative), and not zero (the operands really are rounded).
  func testProductIsWithinBF16RoundingOfTheFP32Product() throws {
    for instructions in paths {
      let (m, n, k) = (13, 64, 1031)
      let (x, w) = (values(m * k, seed: 1), values(n * k, seed: 2))
      let ref = reference(m: m, n: n, k: k, x: x, w: w, b: nil)
      let y = try product(m: m, n: n, k: k, x: x, w: w, b: nil, instructions: instructions)
      var worst = 0.0
      for i in 0..<(m * n) {
        let d = abs(Double(y[i]) - ref.sum[i])
        XCTAssertLessThanOrEqual(d, 0x1p-7 * ref.magnitude[i], "instructions \(instructions) element \(i)")
        worst = max(worst, d)
      }
      XCTAssertGreaterThan(worst, 1e-4, "instructions \(instructions): the result looks unrounded")
    }
  }

  func testInstructionsAndFallbackAgreeUpToFP32Summation() throws {
    try XCTSkipUnless(BF16PackedMatrix.instructionsAvailable, "this CPU has no AVX-512 BF16")
    let (m, n, k) = (37, 70, 777)
    let (x, w, b) = (values(m * k, seed: 5), values(n * k, seed: 6), values(n, seed: 7))
    let ref = reference(m: m, n: n, k: k, x: bf16(x), w: bf16(w), b: b)
    let hw = try product(m: m, n: n, k: k, x: x, w: w, b: b, instructions: true)
    let fallback = try product(m: m, n: n, k: k, x: x, w: w, b: b, instructions: false)
    for i in 0..<(m * n) {
      XCTAssertLessThanOrEqual(abs(Double(hw[i]) - Double(fallback[i])), 2 * Double(k + 1) * 0x1p-24 * ref.magnitude[i])
    }
  }

  func testInstructionResultsDoNotDependOnThreadCount() throws {
    try XCTSkipUnless(BF16PackedMatrix.instructionsAvailable, "this CPU has no AVX-512 BF16")
    let (m, n, k) = (67, 160, 257)  // above GEMMKernel.minimumParallelWork: threads split it
    let (x, w) = (values(m * k, seed: 8), values(n * k, seed: 9))
    Parallelism.threadCount = 1
    let one = try product(m: m, n: n, k: k, x: x, w: w, b: nil, instructions: true)
    for threads in [2, 3] {
      Parallelism.threadCount = threads
      XCTAssertEqual(try product(m: m, n: n, k: k, x: x, w: w, b: nil, instructions: true), one, "\(threads) threads")
    }
  }

  func testAnInputThatRecordsGradientsIsRejected() throws {
    let matrix = try BF16PackedMatrix(transposing: Tensor(shape: [2, 3], scalars: values(6, seed: 1)))
    let x = try Tensor(shape: [1, 3], scalars: [1, 2, 3]).requiringGrad()
    XCTAssertThrowsError(try Tensor.linear(x, bf16Weight: matrix, bias: nil)) { error in
      XCTAssertTrue("\(error)".contains("noGrad"), "\(error)")
    }
  }

  func testAWrongInputWidthNamesBothShapes() throws {
    for instructions in paths {
      let matrix = try BF16PackedMatrix(transposing: Tensor(shape: [2, 3], scalars: values(6, seed: 1)), useInstructions: instructions)
      XCTAssertThrowsError(try noGrad { try Tensor.linear(Tensor(shape: [1, 4], scalars: [1, 2, 3, 4]), bf16Weight: matrix, bias: nil) }) { error in
        XCTAssertTrue("\(error)".contains("in=3"), "\(error)")
      }
    }
  }
}
