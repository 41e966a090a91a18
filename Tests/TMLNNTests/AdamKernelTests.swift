import XCTest
@testable import TMLNN
import TMLTensor

/// The AVX-512 and AVX2 Adam updates must equal the scalar loop bit for bit (same
/// operations, same order, no fused multiply-adds), for Adam with L2 decay and for AdamW.
final class AdamKernelTests: XCTestCase {
  override func tearDown() {
    AdamKernel.isEnabled = AdamKernel.isSupported
    AdamKernel.forcedVariant = nil
  }

  func run(kernel: Bool, decoupled: Bool) throws -> [Float] {
    AdamKernel.isEnabled = kernel
    var rng = RandomGenerator(seed: 21)
    // 1,000,007 elements: several parallel chunks and a tail that is not a multiple of 16.
    let p = Parameter(Tensor.normal([1_000_007], using: &rng))
    let group = [ParameterGroup(name: "all", parameters: [("p", p)], schedule: .constant(3e-3))]
    let opt: Optimizer = decoupled ? try AdamW(groups: group, weightDecay: 0.05)
                                   : try Adam(groups: group, beta1: 0.95, beta2: 0.999, eps: 1e-7, weightDecay: 0.01)
    for step in 0..<3 {
      opt.zeroGrad()
      var grng = RandomGenerator(seed: UInt64(100 + step))
      try (p.value * Tensor.normal([1_000_007], using: &grng)).sum().backward()
      try opt.step()
    }
    return p.value.scalars
  }

  func testKernelsEqualTheScalarLoopBitForBit() throws {
    try XCTSkipUnless(AdamKernel.isSupported, "this CPU has neither AVX-512 nor AVX2: Adam runs the scalar loop only")
    for variant in [AdamKernel.Variant.avx512, .avx2] {
      AdamKernel.forcedVariant = variant
      AdamKernel.isEnabled = true
      guard AdamKernel.active == variant else { continue }  // this CPU lacks the variant
      try checkEqualsTheScalarLoop(variant)
    }
  }

  func testTheWidthFollowsTheGEMMVariant() throws {
    let saved = GEMMKernel.variant
    defer { GEMMKernel.variant = saved }
    GEMMKernel.variant = .avx2
    try XCTSkipUnless(GEMMKernel.active == .avx2, "this CPU has no AVX2")
    XCTAssertEqual(AdamKernel.active, .avx2, "SWIFTTML_GEMM=avx2 must not run AVX-512 Adam")
    GEMMKernel.variant = .avx512
    if GEMMKernel.active == .avx512 { XCTAssertEqual(AdamKernel.active, .avx512) }
  }

  func checkEqualsTheScalarLoop(_ variant: AdamKernel.Variant) throws {
    for decoupled in [false, true] {
      let fast = try run(kernel: true, decoupled: decoupled)
      let loop = try run(kernel: false, decoupled: decoupled)
      XCTAssertEqual(fast.count, loop.count)
      let differing = zip(fast, loop).filter { $0.bitPattern != $1.bitPattern }.count
      XCTAssertEqual(differing, 0, "\(variant) decoupled=\(decoupled): \(differing) elements differ")
      XCTAssertNotEqual(fast, try run(kernel: true, decoupled: !decoupled), "the two modes differ")
    }
  }
}
