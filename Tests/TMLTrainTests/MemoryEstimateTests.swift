import TMLTrain
import XCTest

final class MemoryEstimateTests: XCTestCase {
  func testSizesBeyondIntMaxSaturateInsteadOfOverflowing() {
    XCTAssertEqual(MemoryEstimate.product([1 << 40, 1 << 40]), Int.max)
    XCTAssertEqual(MemoryEstimate.sum(Int.max, 1), Int.max)
    var m = MemoryEstimate()
    m.add(keys: [("a", 1 << 62)], "a", elements: [1 << 62], copies: 2)
    m.add(keys: [("b", 3)], "b", elements: [3])
    XCTAssertEqual(m.totalBytes, Int.max)
    XCTAssertEqual(MemoryEstimate.describe(bytes: Int.max), "more than 9223372036854775807 bytes (over 8 EiB)")
    XCTAssertEqual(MemoryEstimate.describe(bytes: 3 << 30), "3221225472 bytes (3.0 GiB)")
  }

  func testTheCheckNamesTheKeyOutOfProportionAndPassesWhatFits() throws {
    var m = MemoryEstimate()
    m.add(keys: [("batch", 128), ("layers[0]", 1_000_000_000_000)], "activations", elements: [128, 1_000_000_000_000])
    m.add(keys: [("batch", 128), ("layers[1]", 64)], "activations", elements: [128, 64])
    m.add(keys: [("batch", 128)], "inputs", elements: [128, 100])
    XCTAssertNoThrow(try m.check(availableBytes: Int.max))
    XCTAssertThrowsError(try m.check(availableBytes: 1 << 30)) {
      let message = "\($0)"
      XCTAssertTrue(message.hasPrefix("layers[0] = 1000000000000: the run would need about 512000000083968 bytes"), message)
      XCTAssertTrue(message.contains("this machine has 1073741824 bytes (1.0 GiB)"), message)
      XCTAssertTrue(message.contains("with batch = 128"), message)
    }
  }
}
