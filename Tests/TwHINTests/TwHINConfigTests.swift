import Foundation
import TMLNN
import TMLTrain
import XCTest
@testable import TwHIN

/// The original's TwHIN config schema, strictly: reference config, key-path errors, the
/// optimizer mapping and SwiftTML's data extensions.
final class TwHINConfigTests: XCTestCase {
  static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// A small valid config; `edit` rewrites its text before decoding.
  static let base = """
    training:
      save_dir: /tmp/x
    model:
      translation_optimizer:
        sgd: {lr: 0.05}
      embeddings:
        tables:
          - name: user
            num_embeddings: 10
            embedding_dim: 4
            data_type: fp32
            optimizer:
              sgd: {lr: 0.01}
          - name: tweet
            num_embeddings: 20
            embedding_dim: 4
            data_type: fp32
            optimizer:
              adagrad: {lr: 0.1}
      relations:
        - {name: fav, lhs: user, rhs: tweet, operator: translation}
        - {name: follow, lhs: user, rhs: user}
    train_data:
      data_root: edges/*.parquet
      per_replica_batch_size: 4
      global_negatives: 0
      in_batch_negatives: 2
    validation_data:
      data_root: edges/*.parquet
      per_replica_batch_size: 4
      global_negatives: 1
      in_batch_negatives: 2
      limit: 3
      offset: 2

"""  // closing at column 0: the text keeps the source indentation, so the edits below match it

  func decode(_ replacements: [(String, String)] = []) throws -> TwHINConfig {
    var text = Self.base
    for (a, b) in replacements {
      XCTAssertTrue(text.contains(a), "the base config has no \(a)")
      text = text.replacingOccurrences(of: a, with: b)
    }
    return try TwHINConfig.decode(yaml: text, file: "t.yaml")
  }

  func assertConfigError(_ replacements: [(String, String)], path: String, mentions: [String] = [], file: StaticString = #filePath, line: UInt = #line) {
    do {
      _ = try decode(replacements)
      XCTFail("expected a config error at \(path)", file: file, line: line)
    } catch let e as ConfigError {
      XCTAssertEqual(e.keyPath, path, "\(e)", file: file, line: line)
      for m in mentions { XCTAssertTrue(e.description.contains(m), "\(e) does not mention \(m)", file: file, line: line) }
    } catch {
      XCTFail("expected a ConfigError, got \(error)", file: file, line: line)
    }
  }

  func testTheReferenceLocalConfigLoadsUnchangedAndFailsOnGCSOnlyWhenTrainingStarts() throws {
    let dir = ProcessInfo.processInfo.environment["TML_REFERENCE_DIR"].map { URL(fileURLWithPath: $0) }
      ?? Self.repoRoot.appendingPathComponent("../shared/reference")
    let url = dir.appendingPathComponent("twhin_local.yaml").standardizedFileURL
    guard FileManager.default.fileExists(atPath: url.path) else {
      print("TwHINConfigTests: skipping, \(url.path) is absent (../shared is not checked out beside the repository)")
      throw XCTSkip("\(url.path) absent: ../shared (the original's reference configs) is not checked out here")
    }
    let c = try TwHINConfig.load(from: url.path)
    XCTAssertEqual(c.model.embeddings.tables.map(\.name), ["user", "tweet"])
    XCTAssertEqual(c.model.embeddings.tables.map(\.numEmbeddings), [424_241, 72_543])
    XCTAssertEqual(c.embeddingDim, 4)
    XCTAssertEqual(c.model.relations.map(\.name), ["fav", "reply", "retweet", "magic_recs"])
    XCTAssertEqual(c.tableOptimizers(), [.sgd(.constant(0.01)), .sgd(.constant(0.005))])
    XCTAssertEqual(c.translationOptimizer(), .sgd(.constant(0.05), momentum: 0))
    XCTAssertEqual(c.training.numEpochs, 5)
    XCTAssertEqual(c.trainData.limit, 9990)
    XCTAssertEqual(c.trainData.rowRange.start, 0)
    XCTAssertEqual(c.trainData.rowRange.count, 9990 * 500)
    XCTAssertEqual(c.validationData.rowRange.start, 9990 * 500)
    XCTAssertEqual(c.validationData.rowRange.count, 10 * 500)
    let run = try TwHINRun(config: c)
    XCTAssertEqual(run.plan(trainEdges: 9990 * 500).totalSteps, 5 * 9990)
    XCTAssertThrowsError(try run.loadData()) { e in
      XCTAssertTrue("\(e)".contains("train_data.data_root: cannot read gs:// paths; download the files and point data_root at them"), "\(e)")
    }
  }

  func testTheCommittedPlantedConfigIsWhatGenerateGraphWrites() throws {
    let url = Self.repoRoot.appendingPathComponent("configs/twhin/planted.yaml")
    let text = try String(contentsOf: url, encoding: .utf8)
    XCTAssertEqual(text, PlantedGraphFiles.configYAML(.init(), dataDirectory: PlantedGraphFiles.defaultDirectory, saveDir: PlantedGraphFiles.defaultSaveDir))
    let c = try TwHINConfig.load(from: url.path)
    XCTAssertEqual(c.model.embeddings.tables.map(\.numEmbeddings), [4000, 400, 1200])
    XCTAssertEqual(try c.graphSchema().relations.map(\.name), PlantedGraph.relationNames)
    XCTAssertEqual(c.tableOptimizers().first, .rowWiseAdagrad(.constant(0.05), eps: 1e-10))
  }

  func testDefaultsAndTheDataExtensions() throws {
    let c = try decode([("      limit: 3\n      offset: 2\n", "      limit: 3\n      offset: 2\n      format: csv\n      columns: {lhs: src, rel: kind}\n      unknown_ids: skip\n      holdout_fraction: 0.25\n")])
    XCTAssertEqual(c.training.numTrainSteps, 10_000)
    XCTAssertEqual(c.model.relations[1].operator, .translation)
    XCTAssertNil(c.trainData.limit)
    XCTAssertEqual(c.trainData.rowRange.start, 0)
    XCTAssertNil(c.trainData.rowRange.count)
    XCTAssertEqual(c.validationData.format, .csv)
    XCTAssertEqual(c.validationData.columns, TwHINEdgeColumns(lhs: "src", rel: "kind", rhs: "rhs"))
    XCTAssertEqual(c.validationData.unknownIds, .skip)
    XCTAssertEqual(c.validationData.holdoutFraction, 0.25)
    XCTAssertEqual(c.validationData.rowRange.start, 8)
    XCTAssertEqual(c.validationData.rowRange.count, 12)
    XCTAssertNil(c.trainData.negativeSides, "absent: not written back, so existing configs hash as before")
    XCTAssertEqual(c.trainData.sides, [.lhs, .rhs], "the original's both sides by default")
    XCTAssertEqual(try decode([("      limit: 3\n", "      limit: 3\n      negative_sides: [rhs]\n")]).validationData.sides, [.rhs])
  }

  func testTableOptimizersMapToTheFusedKernelsTorchrecRuns() throws {
    func spec(_ yaml: String) throws -> TableOptimizerSpec {
      try decode([("              sgd: {lr: 0.01}", yaml)]).tableOptimizers()[0]
    }
    XCTAssertEqual(try spec("              sgd: {lr: 0.01}"), .sgd(.constant(0.01)))
    XCTAssertEqual(try spec("              adagrad: {lr: 0.1}"), .adagrad(.constant(0.1), eps: 1e-10), "eps 0 becomes 1e-10")
    XCTAssertEqual(try spec("              adagrad: {lr: 0.1, eps: 0.001}"), .adagrad(.constant(0.1), eps: 0.001))
    XCTAssertEqual(try spec("              rowwise_adagrad: {lr: 0.2}"), .rowWiseAdagrad(.constant(0.2), eps: 1e-10))
    XCTAssertEqual(try spec("              adam: {lr: 0.001}"), .adam(.constant(0.001), beta1: 0.9, beta2: 0.999, eps: 1e-7))
    XCTAssertEqual(try spec("              sgd: {lr: 0.01}\n              learning_rate: {linear_ramp_to_constant: {learning_rate: 0.5, num_ramp_steps: 10}}"),
                   .sgd(.linearRampToConstant(learningRate: 0.5, rampSteps: 10)), "the schedule wins over lr (the original ignores it)")
    let t = try decode([("        sgd: {lr: 0.05}", "        adam: {lr: 0.01}")]).translationOptimizer()
    XCTAssertEqual(t, .adam(.constant(0.01), beta1: 0.9, beta2: 0.999, eps: 1e-7))
  }

  func testUnknownKeysAreRejectedWithTheirKeyPath() {
    assertConfigError([("            embedding_dim: 4\n            data_type: fp32\n            optimizer:\n              sgd: {lr: 0.01}",
                        "            embeding_dim: 4\n            data_type: fp32\n            optimizer:\n              sgd: {lr: 0.01}")],
                      path: "model.embeddings.tables[0].embeding_dim", mentions: ["unknown key", "Did you mean 'embedding_dim'"])
    assertConfigError([("      in_batch_negatives: 2\n    validation_data", "      in_batch_negatives: 2\n      shuffle: true\n    validation_data")],
                      path: "train_data.shuffle", mentions: ["unknown key"])
    assertConfigError([("{name: follow, lhs: user, rhs: user}", "{name: follow, lhs: user, rhs: user, weight: 2}")],
                      path: "model.relations[1].weight", mentions: ["unknown key"])
    assertConfigError([("training:\n", "trainng:\n")], path: "trainng", mentions: ["Did you mean 'training'"])
  }

  func testModelCrossChecksNameTheOffendingKey() {
    assertConfigError([("{name: follow, lhs: user, rhs: user}", "{name: follow, lhs: user, rhs: author}")],
                      path: "model.relations[1].rhs", mentions: ["'author'", "user, tweet"])
    assertConfigError([("            num_embeddings: 20\n            embedding_dim: 4", "            num_embeddings: 20\n            embedding_dim: 8")],
                      path: "model.embeddings.tables[1].embedding_dim", mentions: ["must match"])
    assertConfigError([("            num_embeddings: 20\n            embedding_dim: 4\n            data_type: fp32", "            num_embeddings: 20\n            embedding_dim: 4\n            data_type: fp16")],
                      path: "model.embeddings.tables[1].data_type", mentions: ["must match"])
    assertConfigError([("    - name: tweet", "    - name: user")], path: "model.embeddings.tables[1].name", mentions: ["twice"])
    assertConfigError([("{name: follow, lhs: user, rhs: user}", "{name: fav, lhs: user, rhs: user}")], path: "model.relations[1].name", mentions: ["twice"])
    assertConfigError([("            data_type: fp32\n            optimizer:\n              sgd: {lr: 0.01}", "            data_type: fp64\n            optimizer:\n              sgd: {lr: 0.01}")],
                      path: "model.embeddings.tables[0].data_type", mentions: ["fp32, fp16"])
    assertConfigError([("{name: fav, lhs: user, rhs: tweet, operator: translation}", "{name: fav, lhs: user, rhs: tweet, operator: rotate}")],
                      path: "model.relations[0].operator", mentions: ["translation, diagonal, complex"])
  }

  func testValuesAndGroupsAreChecked() {
    assertConfigError([("              sgd: {lr: 0.01}", "              sgd: {lr: 0.01}\n              adagrad: {lr: 0.01}")],
                      path: "model.embeddings.tables[0].optimizer", mentions: ["exactly one of"])
    assertConfigError([("              sgd: {lr: 0.01}", "              sgd: {lr: 0.01, momentum: 0.9}")],
                      path: "model.embeddings.tables[0].optimizer.sgd.momentum", mentions: ["not supported"])
    assertConfigError([("            num_embeddings: 10", "            num_embeddings: 0")], path: "model.embeddings.tables[0].num_embeddings", mentions: ["> 0"])
    assertConfigError([("      data_root: edges/*.parquet\n      per_replica_batch_size: 4\n      global_negatives: 0", "      per_replica_batch_size: 4\n      global_negatives: 0")],
                      path: "train_data.data_root", mentions: ["missing"])
    assertConfigError([("      global_negatives: 0\n      in_batch_negatives: 2", "      global_negatives: 0\n      in_batch_negatives: -2")],
                      path: "train_data.in_batch_negatives", mentions: [">= 0"])
    assertConfigError([("      limit: 3", "      limit: 0")], path: "validation_data.limit", mentions: ["> 0"])
    assertConfigError([("      limit: 3", "      limit: 3\n      unknown_ids: maybe")], path: "validation_data.unknown_ids", mentions: ["error, skip"])
    assertConfigError([("      limit: 3", "      limit: 3\n      holdout_fraction: 1.5")], path: "validation_data.holdout_fraction", mentions: ["between 0 and 1"])
    assertConfigError([("      in_batch_negatives: 2\n    validation_data", "      in_batch_negatives: 2\n      holdout_fraction: 0.1\n    validation_data")],
                      path: "train_data.holdout_fraction", mentions: ["validation_data"])
    assertConfigError([("      limit: 3", "      limit: 3\n      negative_sides: []")], path: "validation_data.negative_sides", mentions: ["lhs, rhs or both"])
    assertConfigError([("      limit: 3", "      limit: 3\n      negative_sides: [rhs, rhs]")], path: "validation_data.negative_sides", mentions: ["each once"])
    assertConfigError([("      limit: 3", "      limit: 3\n      negative_sides: [tail]")], path: "validation_data.negative_sides[0]", mentions: ["lhs, rhs"])
    assertConfigError([("      limit: 3", "      limit: 3\n      format: orc")], path: "validation_data.format", mentions: ["parquet, csv, tsv"])
  }
}
