import XCTest
@testable import TMLTensor

/// Our AVX-512 SGEMM (`GEMMKernel`) against a float64 reference: every transpose
/// combination, accumulate or overwrite, shapes with partial row tiles, partial panels
/// and partial k blocks, pre-packed and packed per call, and independence from the
/// thread count. Skipped (with the reason) on CPUs without AVX-512.
final class GEMMKernelTests: XCTestCase {
  override func setUpWithError() throws {
    try XCTSkipUnless(GEMMKernel.isSupported, "this CPU has no AVX-512: BLAS.gemm uses BLAS only")
  }

  override func tearDown() {
    GEMMKernel.isEnabled = GEMMKernel.isSupported
    Parallelism.threadCount = ProcessInfo.processInfo.activeProcessorCount
  }

  func values(_ count: Int, seed: UInt64) -> [Float] {
    var rng = RandomGenerator(seed: seed)
    return (0..<count).map { _ in rng.uniform() * 2 - 1 }
  }

  /// Σ_k op(A)[i,k]·op(B)[k,j] (+ C) in Double.
  func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [Float], b: [Float], c: [Float]?) -> [Double] {
    var out = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
      for j in 0..<n {
        var s = c.map { Double($0[i * n + j]) } ?? 0
        for q in 0..<k {
          let av = transA ? a[q * m + i] : a[i * k + q]
          let bv = transB ? b[j * k + q] : b[q * n + j]
          s += Double(av) * Double(bv)
        }
        out[i * n + j] = s
      }
    }
    return out
  }

  func assertClose(_ got: [Float], _ want: [Double], k: Int, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    // Each term is a product of values in [-1, 1]: float32 summation error stays below ~k·2⁻²³.
    let tolerance = 1e-6 * Double(max(k, 1)) + 1e-6
    var worst = 0.0
    for (g, w) in zip(got, want) { worst = max(worst, abs(Double(g) - w)) }
    XCTAssertLessThanOrEqual(worst, tolerance, "\(what): max |error| \(worst)", file: file, line: line)
  }

  func testAllTransposeCombinationsMatchReference() {
    let shapes = [(16, 1, 1), (17, 33, 17), (24, 32, 16), (37, 70, 530), (130, 95, 1030), (16, 5, 513)]
    for (m, n, k) in shapes {
      for transA in [false, true] {
        for transB in [false, true] {
          for accumulate in [false, true] {
            let a = values(m * k, seed: 1), b = values(k * n, seed: 2), c0 = values(m * n, seed: 3)
            var c = c0
            a.withUnsafeBufferPointer { ap in
              b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                  BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: ap.baseAddress!, lda: transA ? m : k,
                            b: bp.baseAddress!, ldb: transB ? k : n, beta: accumulate ? 1 : 0, c: cp.baseAddress!, ldc: n)
                }
              }
            }
            let want = reference(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, c: accumulate ? c0 : nil)
            assertClose(c, want, k: k, "m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB) accumulate=\(accumulate)")
          }
        }
      }
    }
  }

  func testPackedLinearMatchesReferenceForEveryRowCount() throws {
    // 1…9 rows exercise each partial micro-tile; 40 columns a partial panel; k = 600 two k blocks.
    let (outF, inF) = (40, 600)
    let w = try Tensor(shape: [outF, inF], scalars: values(outF * inF, seed: 4))
    let bias = try Tensor(shape: [outF], scalars: values(outF, seed: 5))
    let packed = try PackedMatrix(transposing: w)
    XCTAssertEqual(packed.rows, inF)
    XCTAssertEqual(packed.columns, outF)
    for m in 1...9 {
      let xs = values(m * inF, seed: UInt64(10 + m))
      let x = try Tensor(shape: [m, inF], scalars: xs)
      let y = try noGrad { try Tensor.linear(x, packedWeight: packed, bias: bias) }
      XCTAssertEqual(y.shape, [m, outF])
      var want = reference(transA: false, transB: true, m: m, n: outF, k: inF, a: xs, b: w.scalars, c: nil)
      for i in 0..<m { for j in 0..<outF { want[i * outF + j] += Double(bias.scalars[j]) } }
      assertClose(y.scalars, want, k: inF, "packed linear, \(m) rows")
    }
  }

  func testResultsDoNotDependOnThreadCount() {
    // Panel split (8 panels) and row split (2 panels) both engage with 2 threads.
    for (m, n, k) in [(64, 256, 130), (256, 40, 200)] {
      let a = values(m * k, seed: 6), b = values(n * k, seed: 7)
      func run(threads: Int) -> [Float] {
        Parallelism.threadCount = threads
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in
          b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
              BLAS.gemm(transA: false, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k,
                        b: bp.baseAddress!, ldb: k, beta: 0, c: cp.baseAddress!, ldc: n)
            }
          }
        }
        return c
      }
      let one = run(threads: 1), two = run(threads: 2), three = run(threads: 3)
      XCTAssertEqual(one, two, "m=\(m) n=\(n) k=\(k): 1 vs 2 threads")
      XCTAssertEqual(one, three, "m=\(m) n=\(n) k=\(k): 1 vs 3 threads")
    }
  }

  func testKernelAgreesWithBLAS() throws {
    let x = try Tensor(shape: [128, 300], scalars: values(128 * 300, seed: 8))
    let w = try Tensor(shape: [70, 300], scalars: values(70 * 300, seed: 9))
    let ours = try Tensor.linear(x, weight: w, bias: nil).scalars
    GEMMKernel.isEnabled = false
    let blas = try Tensor.linear(x, weight: w, bias: nil).scalars
    var worst: Float = 0
    for (p, q) in zip(ours, blas) { worst = max(worst, abs(p - q)) }
    XCTAssertLessThan(worst, 1e-4)
  }

  func testPackedLinearRefusesInputsThatRecordGradients() throws {
    let w = try PackedMatrix(transposing: Tensor.ones([4, 3]))
    let x = Tensor.ones([2, 3]).requiringGrad()
    XCTAssertThrowsError(try Tensor.linear(x, packedWeight: w, bias: nil)) { error in
      XCTAssertTrue("\(error)".contains("noGrad"), "\(error)")
    }
    XCTAssertThrowsError(try noGrad { try Tensor.linear(Tensor.ones([2, 5]), packedWeight: w, bias: nil) }) { error in
      XCTAssertTrue("\(error)".contains("[2, 5]") || "\(error)".contains("2×5") || "\(error)".contains("must be 3"), "\(error)")
    }
  }
}
