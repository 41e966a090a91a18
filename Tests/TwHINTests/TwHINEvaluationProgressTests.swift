import TMLTrain
import XCTest
@testable import TwHIN

/// The progress `TwHINEvaluator` reports: each phase counts up to its total.
final class TwHINEvaluationProgressTests: XCTestCase {
  func testEvaluationReportsBatchesThenRankedEdgesUpToTheirTotals() throws {
    let g = try PlantedGraph(.init(users: 40, authors: 15, tweets: 50, communities: 3, degrees: [3, 4, 2, 2], seed: 2))
    let model = try TwHINModel(schema: g.schema, dim: 5, embeddingInit: .normal(std: 0.5), seed: 4)
    let edges = g.heldOut
    let ev = try TwHINEvaluator(loss: try TwHINLoss(inBatchNegatives: 4), batchSize: 16)
    var reports: [WorkProgress] = []
    _ = try ev.evaluate(model, edges: edges, known: KnownEdges([g.train, edges])) { reports.append($0) }
    let batches = reports.filter { $0.label == "eval in-batch" }
    let ranked = reports.filter { $0.label == "eval all candidates" }
    XCTAssertEqual(batches.count + ranked.count, reports.count)
    XCTAssertEqual(batches.map(\.done), Array(1...((edges.count + 15) / 16)))
    XCTAssertTrue(batches.allSatisfy { $0.unit == .batches && $0.total == batches.count })
    XCTAssertEqual(ranked.map(\.done), Array(1...edges.count))
    XCTAssertTrue(ranked.allSatisfy { $0.unit == .edges && $0.total == edges.count })
    XCTAssertEqual(reports.firstIndex { $0.label == "eval all candidates" }, batches.count, "in-batch first, then all candidates")
  }
}
