import Foundation
import XCTest

/// `tml demo` itself, run as a process twice with the same seed: the printed feed and
/// quality table are identical (skipped when the `tml` binary has not been built next
/// to the tests, e.g. `swift test --filter` on a partial build).
final class DemoCommandTests: XCTestCase {
  /// The build products directory (where SwiftPM puts `tml` next to the test bundle).
  var productsDirectory: URL {
    #if os(macOS)
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") { return bundle.bundleURL.deletingLastPathComponent() }
    return Bundle.main.bundleURL
    #else
    return Bundle.main.bundleURL
    #endif
  }

  /// The lines of `output` from the one starting with `start` up to (not including) the first timing line.
  func block(_ output: String, from start: String) -> String {
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let i = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(start) }) else { return "" }
    return lines[i...].prefix { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("(") }.joined(separator: "\n")
  }

  func testTmlDemoTwiceWithTheSameSeedPrintsTheSameFeed() throws {
    let tml = productsDirectory.appendingPathComponent("tml")
    guard FileManager.default.isExecutableFile(atPath: tml.path) else { throw XCTSkip("\(tml.path) is not built") }
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tml-demo-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    var outputs: [String] = []
    for run in ["a", "b"] {
      let out = try ReportStructure.run(tml.path, ["demo", "--users", "40", "--seed", "11", "--out", root.appendingPathComponent(run).path])
      outputs.append(out)
    }
    let feeds = outputs.map { block($0, from: "Feed of user") }
    XCTAssertTrue(feeds[0].contains("1. tweet"), "the feed is printed:\n\(outputs[0])")
    XCTAssertEqual(feeds[0], feeds[1])
    let quality = outputs.map { block($0, from: "NDCG@10 on held-out impressions") }
    XCTAssertTrue(quality[0].contains("weighted score: Heavy Ranker + TwHIN"))
    XCTAssertEqual(quality[0], quality[1])
  }
}
