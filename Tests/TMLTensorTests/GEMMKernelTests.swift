import XCTest
@testable import TMLTensor

/// Our SGEMMs (`GEMMKernel`, AVX-512 and AVX2/FMA, each test run for every one this CPU
/// supports) against a float64 reference: every transpose combination, accumulate or
/// overwrite, shapes with partial row tiles, partial panels and partial k blocks,
/// pre-packed and packed per call, and independence from the thread count. Skipped (with
/// the reason) on CPUs without AVX2.
final class GEMMKernelTests: XCTestCase {
  /// Our kernels this CPU runs.
  let kernels = GEMMKernel.Variant.allCases.filter { $0 != .blas && $0.isSupported }

  override func setUpWithError() throws {
    try XCTSkipUnless(GEMMKernel.isSupported, "this CPU has no AVX2 or AVX-512: BLAS.gemm uses BLAS only")
  }

  override func tearDown() {
    GEMMKernel.variant = GEMMKernel.best
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
    // Rows: whole and partial 6- and 8-row tiles; columns: whole and partial 16/32 panels;
    // k: one, two and three 512-blocks.
    let shapes = [(16, 1, 1), (17, 33, 17), (24, 32, 16), (37, 70, 530), (130, 95, 1030), (16, 5, 513), (23, 48, 9)]
    for kernel in kernels {
    GEMMKernel.variant = kernel
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
            assertClose(c, want, k: k, "\(kernel): m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB) accumulate=\(accumulate)")
          }
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
    for kernel in kernels {
    GEMMKernel.variant = kernel
    let packed = try PackedMatrix(transposing: w)
    XCTAssertEqual(packed.rows, inF)
    XCTAssertEqual(packed.columns, outF)
    XCTAssertEqual(packed.variant, kernel)
    for m in 1...9 {
      let xs = values(m * inF, seed: UInt64(10 + m))
      let x = try Tensor(shape: [m, inF], scalars: xs)
      let y = try noGrad { try Tensor.linear(x, packedWeight: packed, bias: bias) }
      XCTAssertEqual(y.shape, [m, outF])
      var want = reference(transA: false, transB: true, m: m, n: outF, k: inF, a: xs, b: w.scalars, c: nil)
      for i in 0..<m { for j in 0..<outF { want[i * outF + j] += Double(bias.scalars[j]) } }
      assertClose(y.scalars, want, k: inF, "\(kernel) packed linear, \(m) rows")
    }
    }
  }

  func testResultsDoNotDependOnThreadCount() {
    // Panel split (8 or 16 panels) and row split (2 or 3 panels) both engage with 2 threads.
    for kernel in kernels {
    GEMMKernel.variant = kernel
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
      XCTAssertEqual(one, two, "\(kernel) m=\(m) n=\(n) k=\(k): 1 vs 2 threads")
      XCTAssertEqual(one, three, "\(kernel) m=\(m) n=\(n) k=\(k): 1 vs 3 threads")
    }
    }
  }

  func testKernelAgreesWithBLAS() throws {
    let x = try Tensor(shape: [128, 300], scalars: values(128 * 300, seed: 8))
    let w = try Tensor(shape: [70, 300], scalars: values(70 * 300, seed: 9))
    GEMMKernel.variant = .blas
    let blas = try Tensor.linear(x, weight: w, bias: nil).scalars
    for kernel in kernels {
      GEMMKernel.variant = kernel
      let ours = try Tensor.linear(x, weight: w, bias: nil).scalars
      var worst: Float = 0
      for (p, q) in zip(ours, blas) { worst = max(worst, abs(p - q)) }
      XCTAssertLessThan(worst, 1e-4, "\(kernel)")
    }
  }

  func testPackedMatrixIsReadByTheKernelThatPackedIt() throws {
    // Packed for one kernel, used while another is active: the layouts differ (32 vs 16
    // columns per panel), so the packed matrix must bring its own kernel along.
    guard kernels.count > 1 else { throw XCTSkip("only one kernel on this CPU") }
    let w = try Tensor(shape: [50, 70], scalars: values(50 * 70, seed: 20))
    let x = try Tensor(shape: [13, 70], scalars: values(13 * 70, seed: 21))
    let want = reference(transA: false, transB: true, m: 13, n: 50, k: 70, a: x.scalars, b: w.scalars, c: nil)
    for packer in kernels {
      let packed = try PackedMatrix(transposing: w, for: packer)
      for user in kernels {
        GEMMKernel.variant = user
        let y = try noGrad { try Tensor.linear(x, packedWeight: packed, bias: nil) }
        assertClose(y.scalars, want, k: 70, "packed by \(packer), \(user) active")
      }
    }
  }

  func testEnvironmentNamesTheVariantAndUnknownOrUnsupportedNamesFallBackToTheBest() {
    XCTAssertEqual(GEMMKernel.variant(fromEnvironment: nil), GEMMKernel.best)
    XCTAssertEqual(GEMMKernel.variant(fromEnvironment: "auto"), GEMMKernel.best)
    XCTAssertEqual(GEMMKernel.variant(fromEnvironment: "BLAS"), .blas)
    XCTAssertEqual(GEMMKernel.variant(fromEnvironment: "sse"), GEMMKernel.best)
    for kernel in kernels { XCTAssertEqual(GEMMKernel.variant(fromEnvironment: kernel.rawValue), kernel) }
    if !GEMMKernel.Variant.avx512.isSupported {
      XCTAssertEqual(GEMMKernel.variant(fromEnvironment: "avx512"), GEMMKernel.best)
    }
  }

  func testPackingForBLASIsRefused() {
    XCTAssertThrowsError(try PackedMatrix(transposing: Tensor.ones([4, 3]), for: .blas)) { error in
      XCTAssertTrue("\(error)".contains("Tensor.linear"), "\(error)")
    }
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
