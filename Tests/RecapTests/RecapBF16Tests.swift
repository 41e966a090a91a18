import Foundation
import XCTest
@testable import Recap
import TMLNN
import TMLTensor

/// bf16 inference (`Precision.inference = .bf16`) of the golden fixture's ranker against its
/// fp32 outputs: the documented tolerance is max |Δp| ≤ 1e-2 on every head's probability
/// (docs/engine.md, bf16 inference). Setting fp32 back gives the fp32 numbers again.
extension RecapGoldenTests {
  func testBF16PredictionsAreWithinTheDocumentedToleranceOfFP32() throws {
    let f = try fixture()
    let model = try loadedModel(dropout: 0.1, f)
    model.eval()
    let (c, b, ue, uee, ae) = try inputs(f)
    let forward = { try noGrad { try model(continuous: c, binary: b, userEmbedding: ue, userEngEmbedding: uee, authorEmbedding: ae) } }
    defer { Precision.inference = .fp32 }
    let fp32 = try forward()
    Precision.inference = .bf16
    let bf16 = try forward()
    Precision.inference = .fp32
    let again = try forward()

    let deltas = zip(bf16.probabilities.scalars, fp32.probabilities.scalars).map { abs($0 - $1) }
    XCTAssertEqual(bf16.probabilities.shape, fp32.probabilities.shape)
    print("bf16 vs fp32 on the golden fixture: max |Δp| \(deltas.max() ?? .nan), mean \(deltas.reduce(0, +) / Float(max(1, deltas.count)))")
    XCTAssertLessThanOrEqual(deltas.max() ?? .nan, 1e-2, "max |Δp| bf16 vs fp32")
    XCTAssertGreaterThan(deltas.max() ?? 0, 0, "bf16 gave the fp32 numbers: the switch did nothing")
    XCTAssertEqual(again.probabilities.scalars, fp32.probabilities.scalars, "fp32 after bf16")
  }
}
