import TMLANN
import TwHIN
import XCTest
@testable import ForYou

/// The feed's nearest-author retrieval through an HNSW index gives the exact scan's
/// candidates when the search is wide enough, and stays close with a narrow one.
final class ANNRetrievalTests: XCTestCase {
  func testIndexedRetrievalWithAWideSearchEqualsTheExactScan() throws {
    let network = SocialNetwork(SimulationConfig(users: 160, seed: 3))
    let graph = try EngagementGraph(network)
    let model = try TwHINModel(schema: graph.schema, dim: 16, embeddingInit: .normal(std: 1), seed: 4)
    let users = Array((0..<network.users.count).filter { !network.follows.followees[$0].isEmpty }.prefix(30))
    let now = network.config.endHour
    let exact = CandidateRetrieval(network: network, model: model)
    var indexed = CandidateRetrieval(network: network, model: model)
    let authors = model.schema.rhsTable[EngagementGraph.Relation.follow.rawValue]
    indexed.authorIndex = try TwHINANN.build(model: model, table: authors, parameters: HNSWParameters(), threads: 1).index
    indexed.annSearchBreadth = model.schema.tables[authors].numEmbeddings
    let a = try exact.candidates(for: users, now: now), b = try indexed.candidates(for: users, now: now)
    XCTAssertEqual(a.count, users.count)
    XCTAssertTrue(a.contains { $0.contains { $0.source == .twhin } }, "the test needs TwHIN candidates")
    for (x, y) in zip(a, b) {
      XCTAssertEqual(x.map(\.tweet), y.map(\.tweet))
      XCTAssertEqual(x.map(\.source), y.map(\.source))
    }
  }
}
