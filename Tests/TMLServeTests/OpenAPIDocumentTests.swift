import Foundation
import XCTest
import Yams
@testable import TMLServe

/// docs/openapi.yaml matches the server: its routes are the server's routes, every
/// documented operation answers something other than 404, and the statuses it answers
/// (for a valid body and for malformed JSON) are among the operation's documented responses.
final class OpenAPIDocumentTests: XCTestCase {
  func testEveryDocumentedRouteAnswersWithADocumentedStatus() async throws {
    let fixtures = try ServeFixtures.get()
    let text = try String(contentsOf: ServeFixtures.repo.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
    guard let doc = try Yams.load(yaml: text) as? [String: Any], let paths = doc["paths"] as? [String: Any] else {
      return XCTFail("docs/openapi.yaml has no paths")
    }
    XCTAssertEqual(Set(paths.keys), Set(ServeCore.routes), "the document's routes are the server's")
    let records = try fixtures.validationRecords()
    let valid: [String: String] = [
      "/v1/rank": #"{"candidates": [{"id": "t", "example": "\#(Data(records[0]).base64EncodedString())"}]}"#,
      "/v1/neighbors": #"{"relation": "fav", "lhs": 1, "k": 3}"#,
      "/v1/feed": #"{"in_network": [{"id": "t", "features": {}}], "twhin": {"relation": "fav", "lhs": 1, "k": 3, "items": [{"rhs": 0, "id": "u", "features": {}}]}}"#,
      "/admin/reload": "{}",
    ]
    let store = ModelStore(ranker: ModelSource(config: fixtures.rankerConfig, checkpoint: fixtures.rankerSaveDir.path),
                           twhin: ModelSource(config: fixtures.twhinConfig, checkpoint: fixtures.twhinSaveDir.path))
    let loaded = DispatchSemaphore(value: 0)
    store.startLoading { loaded.signal() }
    await withCheckedContinuation { c in DispatchQueue.global().async { loaded.wait(); c.resume() } }
    try await withServer(store) { server in
      var operations = 0
      for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
        for (method, op) in (item as? [String: Any] ?? [:]) {
          operations += 1
          let documented = Set(((op as? [String: Any])?["responses"] as? [String: Any] ?? [:]).keys.compactMap { Int($0) })
          let body = method == "post" ? Array((valid[path] ?? "{}").utf8) : nil
          let (status, reply) = try await server.call(path, bytes: body, method: method.uppercased())
          XCTAssertNotEqual(status, 404, "\(method) \(path)")
          XCTAssertTrue(documented.contains(status), "\(method) \(path) answered \(status), documented \(documented.sorted()): \(reply.prefix(200))")
          XCTAssertEqual(status, 200, "\(method) \(path) with a valid body: \(reply.prefix(300))")
          if method == "post" {
            let (bad, _) = try await server.call(path, bytes: Array("{".utf8), method: "POST")
            XCTAssertTrue(documented.contains(bad) && bad == 400, "\(path) with malformed JSON answered \(bad)")
          }
        }
      }
      XCTAssertEqual(operations, 7)
    }
  }
}
