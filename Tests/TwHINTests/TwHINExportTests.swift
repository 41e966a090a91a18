import Foundation
import TMLNN
import TMLTensor
import XCTest
@testable import TwHIN

/// Per-table safetensors and TSV export.
final class TwHINExportTests: XCTestCase {
  func tempDir() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("twhin-export-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
  }

  func model() throws -> TwHINModel {
    try TwHINModel(schema: try TwHINFixtures.goldenSchema(), dim: 3, embeddingInit: .normal(std: 1e-3), seed: 2)
  }

  func testSafetensorsHasOneFilePerTableWithItsWeight() throws {
    let m = try model(), dir = tempDir()
    let files = try EmbeddingExport.writeSafetensors(m, to: dir)
    XCTAssertEqual(files.map(\.lastPathComponent), ["user.safetensors", "tweet.safetensors", "author.safetensors"])
    for (k, url) in files.enumerated() {
      let f = try SafetensorsFile(contentsOf: url)
      XCTAssertEqual(f.names, ["weight"])
      XCTAssertEqual(f.metadata["table"], m.schema.tables[k].name)
      let w = try f.tensor("weight")
      XCTAssertEqual(w.shape, [m.schema.tables[k].numEmbeddings, 3])
      XCTAssertEqual(w.scalars, m.tables[k].weight.value.scalars)
    }
  }

  func testTSVHasIdThenValuesAndRoundTripsExactly() throws {
    let m = try model(), dir = tempDir()
    let files = try EmbeddingExport.writeTSV(m, to: dir)
    XCTAssertEqual(files.map(\.lastPathComponent), ["user.tsv", "tweet.tsv", "author.tsv"])
    for (k, url) in files.enumerated() {
      let text = try String(contentsOf: url, encoding: .utf8)
      XCTAssertTrue(text.hasSuffix("\n"))
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
      XCTAssertEqual(lines.count, m.schema.tables[k].numEmbeddings)
      var values: [Float] = []
      for (row, line) in lines.enumerated() {
        let fields = line.split(separator: "\t")
        XCTAssertEqual(fields.count, 4)
        XCTAssertEqual(Int(fields[0]), row)
        values += fields.dropFirst().map { Float(String($0))! }
      }
      XCTAssertEqual(values, m.tables[k].weight.value.scalars, "shortest round-trip decimals read back bit-exactly")
    }
  }

  func testUnwritableDirectoryIsAClearError() throws {
    let m = try model()
    let file = tempDir()
    try Data("x".utf8).write(to: file)
    assertTwHINError(["cannot create directory", file.path]) { try EmbeddingExport.writeTSV(m, to: file) }
  }
}
