import Foundation
import TMLData
import XCTest
@testable import TwHIN

/// `tml data kg`: the triples importer (round trip, inverse relations, bad input) and a
/// run on the imported config (operators, both-side test metrics, early stopping).
final class TwHINKnowledgeGraphTests: XCTestCase {
  var dir: URL!
  let fixture = TwHINFixtures.directory.deletingLastPathComponent().appendingPathComponent("kg")

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("twhin-kg-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func split(_ name: String) -> String { fixture.appendingPathComponent("\(name).txt").path }

  func importFixture(inverse: Bool = false, op: TwHINOperator = .translation) throws -> (KnowledgeGraphImport, URL) {
    let kg = try KnowledgeGraphImport(train: split("train"), valid: split("valid"), test: split("test"), inverse: inverse)
    let out = dir.appendingPathComponent("tiny")
    try kg.write(to: out, name: "tiny", operator: op, dim: 8)
    return (kg, out)
  }

  /// The triples of a file as names.
  func triples(_ path: String) throws -> [[String]] {
    try KnowledgeGraphImport.readTriples(path).map { [$0.0, $0.1, $0.2] }
  }

  func testImportedEdgesMapBackToTheTriplesOfEachSplit() throws {
    let (_, out) = try importFixture()
    let run = try TwHINRun(configPath: out.appendingPathComponent("kg.yaml").path)
    let entities = try String(contentsOf: out.appendingPathComponent("entities.tsv"), encoding: .utf8)
      .split(separator: "\n").dropFirst().map { String($0.split(separator: "\t")[1]) }
    XCTAssertEqual(run.schema.tables.map(\.name), ["entity"])
    XCTAssertEqual(run.schema.tables[0].numEmbeddings, entities.count)
    let data = try run.loadData()
    let test = try XCTUnwrap(try run.loadTestData())
    for (name, edges) in [("train", data.train.edges), ("valid", data.validation.edges), ("test", test)] {
      let back = (0..<edges.count).map { [entities[edges.lhs[$0]], run.schema.relations[edges.relations[$0]].name, entities[edges.rhs[$0]]] }
      XCTAssertEqual(back, try triples(split(name)), name)
    }
  }

  func testInverseRelationsReverseEveryTrainingTripleOnly() throws {
    let (kg, _) = try importFixture(inverse: true)
    let plain = try KnowledgeGraphImport(train: split("train"), valid: split("valid"), test: split("test"))
    let r = plain.relations.count
    XCTAssertEqual(kg.relations, plain.relations + plain.relations.map { $0 + "_inv" })
    XCTAssertEqual(kg.train.count, 2 * plain.train.count)
    for i in 0..<plain.train.count {
      let j = plain.train.count + i
      XCTAssertEqual([kg.train.lhs[j], kg.train.relations[j], kg.train.rhs[j]], [plain.train.rhs[i], plain.train.relations[i] + r, plain.train.lhs[i]])
    }
    XCTAssertEqual(kg.valid, plain.valid)
    XCTAssertEqual(kg.test, plain.test)
  }

  func testMalformedLinesAndMissingFilesNameFileAndLine() throws {
    let bad = dir.appendingPathComponent("bad.txt")
    try "a\tr\tb\n\na\tr b\n".write(to: bad, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try KnowledgeGraphImport(train: bad.path, valid: split("valid"), test: split("test"))) { e in
      XCTAssertTrue("\(e)".contains("bad.txt:3") && "\(e)".contains("found 2"), "\(e)")
    }
    try "a\t\tb\n".write(to: bad, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try KnowledgeGraphImport(train: bad.path, valid: split("valid"), test: split("test"))) { e in
      XCTAssertTrue("\(e)".contains("bad.txt:1") && "\(e)".contains("relation field is empty"), "\(e)")
    }
    XCTAssertThrowsError(try KnowledgeGraphImport(train: split("train"), valid: dir.appendingPathComponent("missing.txt").path, test: split("test"))) { e in
      XCTAssertTrue("\(e)".contains("missing.txt") && "\(e)".contains("cannot read"), "\(e)")
    }
  }

  func testTrainingTheImportedConfigReportsBothSidedTestRanksAndKeepsTheBestModel() throws {
    let (kg, out) = try importFixture(inverse: true, op: .complex)
    var config = try TwHINConfig.load(from: out.appendingPathComponent("kg.yaml").path)
    config.training.saveDir = dir.appendingPathComponent("run").path
    config.training.numEpochs = 60
    config.trainData.perReplicaBatchSize = 32
    config.validationData.evalEveryNEpochs = 5
    config.validationData.earlyStoppingPatience = 2
    let run = try TwHINRun(config: config)
    var periodic: [(Int, Double)] = []
    let result = try run.train { if case .linkPrediction(let s, "validation_data", let lp) = $0 { periodic.append((s, lp.both.mrr)) } }
    let test = try XCTUnwrap(result.test)
    XCTAssertEqual(test.both.count, 2 * kg.test.count)
    XCTAssertEqual(test.head.count, kg.test.count)
    let best = try XCTUnwrap(periodic.max { $0.1 < $1.1 })
    XCTAssertEqual(result.bestStep, best.0, "the kept model is the best validation evaluation")
    XCTAssertEqual(try XCTUnwrap(result.evaluation.linkPrediction).both.mrr, best.1, accuracy: 1e-9)
    XCTAssertGreaterThan(best.1, try XCTUnwrap(result.initialEvaluation?.linkPrediction).both.mrr)
  }

  func testImportedConfigTrainsWithUniformNegativesOnlyAndAdagradHalf() throws {
    // In-batch negatives come from a relation's few edges in the batch (the edge's own
    // answer among them); the importer writes S = 0, G = 128, Adagrad lr 0.5 (recipe).
    let (_, out) = try importFixture(op: .diagonal)
    let config = try TwHINConfig.load(from: out.appendingPathComponent("kg.yaml").path)
    for (name, data) in [("train", config.trainData), ("valid", config.validationData), ("test", try XCTUnwrap(config.testData))] {
      XCTAssertEqual([data.inBatchNegatives, data.globalNegatives], [0, 128], name)
    }
    XCTAssertEqual(config.tableOptimizers(), [.adagrad(.constant(0.5), eps: 1e-10)])
    XCTAssertEqual(config.model.translationOptimizer.adagrad?.lr, 0.5)
  }

  func testEarlyStoppingKeysBelongToValidationData() throws {
    let (_, out) = try importFixture()
    let text = try String(contentsOf: out.appendingPathComponent("kg.yaml"), encoding: .utf8)
    let moved = text.replacingOccurrences(of: "train_data:\n", with: "train_data:\n  early_stopping_patience: 2\n")
    XCTAssertThrowsError(try TwHINConfig.decode(yaml: moved, file: "kg.yaml")) { e in
      XCTAssertTrue("\(e)".contains("train_data.early_stopping_patience"), "\(e)")
    }
  }
}
