import Foundation
import TMLNN
import TMLTensor
import XCTest

/// The random streams of stochastic modules, as checkpoints save and restore them.
final class RandomStreamsTests: XCTestCase {
  private func model() -> Sequential {
    var rng = RandomGenerator(seed: 5)
    return Sequential([Dropout(0.5), Linear(6, 6, rng: &rng), ReLU(), Dropout(0.5)])
  }

  func testRestoredStreamsReproduceTheDropoutMasks() throws {
    let a = model()
    let x = seededTensor([4, 6], seed: 2)
    _ = try a(x)  // advance the streams past their start
    let saved = a.randomStreams()
    XCTAssertEqual(saved.keys.sorted(), ["module/0", "module/3"])
    let expected = try a(x)

    let b = model()  // its dropouts get other streams
    XCTAssertNotEqual(try b(x).scalars, expected.scalars, "different streams, different masks")
    let c = model()
    try c.loadRandomStreams(saved)
    XCTAssertEqual(try c(x).scalars, expected.scalars)
  }

  func testAnInvalidSavedStreamIsAnErrorNamingTheModule() throws {
    let message = errorMessage("all-zero stream") { try self.model().loadRandomStreams(["module/3": [0, 0, 0, 0]], origin: "step_5/state.json") }
    assertMentions(message, ["step_5/state.json", "module 3"])
  }
}
