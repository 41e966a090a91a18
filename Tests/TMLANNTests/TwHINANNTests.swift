import Foundation
import TMLANN
import TwHIN
import XCTest

/// ANN neighbours of a TwHIN model against `TwHINModel.neighbors` (the exact GEMM scan), for
/// every relation operator, and the index files saved next to a checkpoint.
final class TwHINANNTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("tml-ann-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

  func model(_ op: RelationOperator, items: Int = 400, dim: Int = 16) throws -> TwHINModel {
    let schema = try GraphSchema(
      tables: [TableSpec(name: "user", numEmbeddings: 50), TableSpec(name: "item", numEmbeddings: items)],
      relations: [RelationSpec(name: "fav", lhs: "user", rhs: "item", operator: op)])
    return try TwHINModel(schema: schema, dim: dim, embeddingInit: .normal(std: 1), translationInit: .normal(std: 1), seed: 7)
  }

  func testWithAWideSearchTheANNNeighboursAreTheExactOnesForEveryOperator() throws {
    for op in [RelationOperator.translation, .diagonal, .complex] {
      let m = try model(op)
      var ann = TwHINANN(model: m)
      ann.use(try TwHINANN.build(model: m, table: 1, parameters: HNSWParameters(m: 16, efConstruction: 400), threads: 1).index, table: 1)
      for u in [0, 7, 49] {
        let exact = try m.neighbors(lhs: u, relation: 0, k: 10)
        let approx = try ann.neighbors(lhs: u, relation: 0, k: 10, ef: 400)
        XCTAssertEqual(approx.map(\.id), exact.map(\.id), "\(op) lhs \(u)")
        for (a, e) in zip(approx, exact) { XCTAssertEqual(a.score, e.score, accuracy: 1e-4 * max(1, abs(e.score)), "\(op) lhs \(u)") }
      }
    }
  }

  func testThePQFastScanRescoringEveryRowIsExactForEveryOperator() throws {
    for op in [RelationOperator.translation, .diagonal, .complex] {
      let m = try model(op)
      var ann = TwHINANN(model: m)
      let pq = try TwHINANN.buildPQ(model: m, table: 1)
      XCTAssertEqual(pq.subspaces, 4, "4-coordinate subspaces of dim 16")
      ann.use(pq, table: 1)
      for u in [0, 7, 49] {
        let exact = try m.neighbors(lhs: u, relation: 0, k: 10)
        let approx = try ann.neighbors(lhs: u, relation: 0, k: 10, ef: 400)
        XCTAssertEqual(approx.map(\.id), exact.map(\.id), "\(op) lhs \(u)")
        XCTAssertEqual(pq.method, "pq")
      }
    }
  }

  func testKnownEdgesAreSkipped() throws {
    let m = try model(.translation)
    var ann = TwHINANN(model: m)
    ann.use(try TwHINANN.build(model: m, table: 1, parameters: HNSWParameters(), threads: 1).index, table: 1)
    let best = try m.neighbors(lhs: 3, relation: 0, k: 3)
    var known = KnownEdges()
    known.insert(lhs: 3, relation: 0, rhs: best[0].id)
    let approx = try ann.neighbors(lhs: 3, relation: 0, k: 3, ef: 400, excluding: known)
    XCTAssertEqual(approx.map(\.id), try m.neighbors(lhs: 3, relation: 0, k: 3, excluding: known).map(\.id))
    XCTAssertFalse(approx.contains { $0.id == best[0].id })
  }

  func testASavedIndexLoadsAndAnswersTheSame() throws {
    let m = try model(.translation)
    let (index, crc) = try TwHINANN.build(model: m, table: 1, parameters: HNSWParameters(m: 8, efConstruction: 50), threads: 1)
    try ANNIndexFile.write(index, table: "item", parameters: HNSWParameters(m: 8, efConstruction: 50), tableCRC32C: crc, checkpoint: directory)
    var loaded = TwHINANN(model: m)
    try loaded.load(tables: [1], checkpoint: directory)
    var built = TwHINANN(model: m)
    built.use(index, table: 1)
    for u in 0..<10 {
      XCTAssertEqual(try loaded.neighbors(lhs: u, relation: 0, k: 10, ef: 20), try built.neighbors(lhs: u, relation: 0, k: 10, ef: 20))
    }
    let header = try JSONDecoder().decode(ANNIndexFile.self, from: Data(contentsOf: ANNIndexFile.paths(checkpoint: directory, table: "item").header))
    XCTAssertEqual(header.rows, 400)
    XCTAssertEqual(header.dimension, 16)
    XCTAssertEqual(header.parameters.m, 8)
  }

  func testADamagedOrTruncatedIndexFileIsAnErrorNamingIt() throws {
    let m = try model(.translation)
    let (index, crc) = try TwHINANN.build(model: m, table: 1, parameters: HNSWParameters(), threads: 1)
    try ANNIndexFile.write(index, table: "item", parameters: HNSWParameters(), tableCRC32C: crc, checkpoint: directory)
    let path = ANNIndexFile.paths(checkpoint: directory, table: "item").index.path
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    bytes[bytes.count / 2] ^= 0xFF
    try bytes.write(to: URL(fileURLWithPath: path))
    var ann = TwHINANN(model: m)
    XCTAssertThrowsError(try ann.load(tables: [1], checkpoint: directory)) { e in
      XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("damaged index") && "\(e)".contains("build-ann"), "\(e)")
    }
    try bytes.prefix(100).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try ann.load(tables: [1], checkpoint: directory)) { e in
      XCTAssertTrue("\(e)".contains("100 bytes"), "\(e)")
    }
    // hnswlib's own structure check, without our header in front of it.
    XCTAssertThrowsError(try HNSWIndex(reading: path, dimension: 16, metric: .innerProduct)) { e in
      XCTAssertTrue("\(e)".contains(path), "\(e)")
    }
  }

  func testAnIndexOfOtherRowsIsStaleAndAMissingOneSaysHowToBuildIt() throws {
    let m = try model(.translation)
    var ann = TwHINANN(model: m)
    XCTAssertThrowsError(try ann.load(tables: [1], checkpoint: directory)) { e in
      XCTAssertTrue("\(e)".contains("no ANN index for table \"item\"") && "\(e)".contains("tml twhin build-ann"), "\(e)")
    }
    let other = try model(.translation, items: 400, dim: 16)
    other.tables[1].weight.value.withUnsafeMutableBufferPointer { $0[0] += 1 }
    let (index, crc) = try TwHINANN.build(model: other, table: 1, parameters: HNSWParameters(), threads: 1)
    try ANNIndexFile.write(index, table: "item", parameters: HNSWParameters(), tableCRC32C: crc, checkpoint: directory)
    XCTAssertThrowsError(try ann.load(tables: [1], checkpoint: directory)) { e in
      XCTAssertTrue("\(e)".contains("stale index"), "\(e)")
    }
    XCTAssertThrowsError(try TwHINANN(model: m).neighbors(lhs: 0, relation: 0, k: 3, ef: 10)) { e in
      XCTAssertTrue("\(e)".contains("no ANN index"), "\(e)")
    }
  }
}
