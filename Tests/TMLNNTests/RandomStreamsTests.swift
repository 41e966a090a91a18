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

/// Data-parallel replicas of a stochastic module draw the global batch's numbers and use
/// their rows' (`ReplicaSlice`): together they drop exactly what one process drops.
final class ReplicaSliceTests: XCTestCase {
  func testThreeReplicasDropTheRowsOneProcessDropsAndEndInItsState() throws {
    let rows = 4, width = 5, replicas = 3
    let x = try Tensor(shape: [rows * replicas, width], scalars: (0..<rows * replicas * width).map { Float($0 + 1) })
    let whole = Dropout(0.4, rng: RandomGenerator(seed: 9))
    let expected = try whole(x).scalars
    var got: [Float] = []
    for r in 0..<replicas {
      let d = Dropout(0.4, rng: RandomGenerator(seed: 9))
      d.replica = ReplicaSlice(rank: r, worldSize: replicas)
      got += try d(try Tensor(shape: [rows, width], scalars: Array(x.scalars[(r * rows * width)..<((r + 1) * rows * width)]))).scalars
      XCTAssertEqual(d.randomStream, whole.randomStream, "replica \(r) ends where one process does")
    }
    XCTAssertEqual(got, expected)
    XCTAssertTrue(expected.contains(0) && expected.contains { $0 != 0 }, "some dropped, some kept")
  }
}
