import XCTest
@testable import TMLTensor

/// Sizes that cannot be allocated are errors, never traps.
final class AllocationTests: XCTestCase {
  func testAShapeWhoseElementCountOverflowsIsAnError() {
    assertThrowsTensorError(["[1099511627776, 1099511627776]", "more elements than memory can address"]) {
      try Tensor(allocatingShape: [1 << 40, 1 << 40])
    }
  }

  func testANegativeDimensionIsAnError() {
    assertThrowsTensorError(["[3, -2]", "negative"]) { try Tensor.zeros(allocatingShape: [3, -2]) }
  }

  func testMemoryTheSystemRefusesIsAnErrorNamingTheBytes() {
    // 2⁶⁰ bytes: beyond any machine's address space, so the allocation itself fails.
    assertThrowsTensorError(["[288230376151711744]", "out of memory", "1152921504606846976 bytes"]) {
      try Tensor(allocatingShape: [1 << 58])
    }
  }

  func testLinearWhoseOutputCannotBeAddressedThrows() {
    // 2³¹ rows × 2³¹ outputs from empty inputs (in = 0): only the output is huge.
    let x = Tensor.zeros([1 << 31, 0]), w = Tensor.zeros([1 << 31, 0])
    assertThrowsTensorError(["[2147483648, 2147483648]", "more elements than memory can address"]) {
      try Tensor.linear(x, weight: w, bias: nil)
    }
  }

  func testCheckedAllocationsAreZeroedAndReuseThePool() throws {
    XCTAssertEqual(try Tensor.zeros(allocatingShape: [2, 3]).scalars, [0, 0, 0, 0, 0, 0])
    XCTAssertEqual(try Tensor.full(1.5, allocatingShape: [2]).scalars, [1.5, 1.5])
    XCTAssertEqual(try Tensor(allocatingShape: [0, 5]).count, 0)
  }
}
