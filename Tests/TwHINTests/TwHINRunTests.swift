import Foundation
import TMLNN
import TMLTensor
import TMLTrain
import XCTest
@testable import TwHIN

/// `TwHINRun` end to end on generate-graph's files: train, logs, checkpoints, exact resume,
/// evaluation of a checkpoint, export, neighbours, vocabularies, held-out split.
final class TwHINRunTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("twhin-run-\(UUID().uuidString)")
  }

  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  /// A small planted graph written as generate-graph does, and its config with `edits`.
  func makeRun(epochs: Int = 3, saveDir: String = "run", _ edits: [(String, String)] = []) throws -> TwHINRun {
    let graph = try PlantedGraph(.init(users: 200, authors: 20, tweets: 60, communities: 5, seed: 3))
    let data = dir.appendingPathComponent("graph")
    if !FileManager.default.fileExists(atPath: data.path) { try PlantedGraphFiles.write(graph, to: data) }
    var yaml = PlantedGraphFiles.configYAML(graph.config, dataDirectory: data.path, saveDir: dir.appendingPathComponent(saveDir).path)
    yaml = yaml.replacingOccurrences(of: "num_epochs: 8", with: "num_epochs: \(epochs)")
      .replacingOccurrences(of: "embedding_dim: 32", with: "embedding_dim: 8")
      .replacingOccurrences(of: "per_replica_batch_size: 500", with: "per_replica_batch_size: 64")
      .replacingOccurrences(of: "checkpoint_every_n: 500", with: "checkpoint_every_n: 10")
      .replacingOccurrences(of: "train_log_every_n: 100", with: "train_log_every_n: 5")
    for (a, b) in edits {
      XCTAssertTrue(yaml.contains(a), "config has no \(a)")
      yaml = yaml.replacingOccurrences(of: a, with: b)
    }
    return try TwHINRun(config: try TwHINConfig.decode(yaml: yaml))
  }

  func testTrainingWritesLogsCheckpointsAndLiftsTheValidationMetrics() throws {
    let r = try makeRun()
    var events: [String] = []
    let result = try r.train { e in
      switch e {
      case .loaded(let s, let edges): events.append("loaded \(s) \(edges.edges.count)")
      case .plan(let epochs, let per, let total, let start): events.append("plan \(epochs) \(per) \(total) \(start)")
      case .training(.checkpointed(let step, _)): events.append("checkpoint \(step)")
      case .evaluated(let step, _): events.append("eval \(step)")
      default: break
      }
    }
    let (per, total) = r.plan(trainEdges: try r.loadData().train.edges.count)
    XCTAssertEqual(total, 3 * per)
    XCTAssertEqual(result.step, total)
    XCTAssertTrue(events.contains("plan 3 \(per) \(total) 0"), "\(events)")
    XCTAssertEqual(events.filter { $0.hasPrefix("eval") }, ["eval 0", "eval \(total)"])
    XCTAssertTrue(events.contains("checkpoint 10") && events.contains("checkpoint \(total)"), "\(events)")
    let before = try XCTUnwrap(result.initialEvaluation?.allCandidates), after = try XCTUnwrap(result.evaluation.allCandidates)
    XCTAssertGreaterThan(after.mrr, 2 * before.mrr)

    let log = try String(contentsOf: r.saveDir.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
    XCTAssertTrue(log.contains { $0.contains("\"kind\":\"train\"") && $0.contains("\"embedding_norm/user\"") && $0.contains("\"learning_rate/tweet\"") })
    XCTAssertEqual(log.filter { $0.contains("\"kind\":\"eval\"") && $0.contains("\"all/mrr\"") }.count, 2)
    let boards = try FileManager.default.contentsOfDirectory(atPath: r.saveDir.appendingPathComponent("tensorboard").path).sorted()
    XCTAssertEqual(boards, ["train", "validation"])
    let steps = CheckpointManager(saveDir: r.saveDir).steps().map(\.step)
    XCTAssertEqual(steps.last, total)
    XCTAssertEqual(steps.count, 2, "checkpoint_max_to_keep: 2")
    let ckpt = try CheckpointManager.load(CheckpointManager(saveDir: r.saveDir).steps().last!.url)
    XCTAssertNotNil(ckpt.optimizer["large_embeddings.ebc.embedding_bags.user.weight.momentum1"])
    XCTAssertNotNil(ckpt.optimizer["all_trans_embs.sum"])
    XCTAssertNotNil(ckpt.state.rngStates["negatives"])

    // Evaluating the checkpoint gives the final metrics again.
    let again = try r.evaluate(checkpoint: r.saveDir)
    XCTAssertEqual(again.allCandidates, result.evaluation.allCandidates)
  }

  func testEdgesSkippedForUnknownIDsAreLoggedPerFile() throws {
    // 10 of the 200 user rows are cut off: edges of users 190..<200 are skipped.
    let r = try makeRun(epochs: 1, [("num_embeddings: 200", "num_embeddings: 190"),
                                    ("per_replica_batch_size: 64", "per_replica_batch_size: 64\n  unknown_ids: skip")])
    r.evaluateAtStart = false
    try r.train()
    let data = try r.loadData()
    XCTAssertGreaterThan(data.train.skippedUnknownIDs, 0)
    let lines = try String(contentsOf: r.saveDir.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
      .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
      .filter { $0["kind"] as? String == "skipped_records" }
    for (section, loaded) in [("train_data", data.train), ("validation_data", data.validation)] {
      let logged = lines.filter { $0["dataset"] as? String == section }
      XCTAssertEqual(logged.compactMap { $0["file"] as? String }, loaded.skipped.files.map(\.path), section)
      XCTAssertEqual(logged.compactMap { $0["records"] as? Double }.reduce(0, +), Double(loaded.skippedUnknownIDs), section)
      for line in logged {
        let first = try XCTUnwrap(line["first_error"] as? String)
        XCTAssertTrue(first.contains("outside table \"user\"") && first.contains("rows 0..<190"), first)
      }
    }
  }

  func testAResumedRunEndsExactlyWhereAnUninterruptedOneDoes() throws {
    let whole = try makeRun(epochs: 3, saveDir: "whole")
    let a = try whole.train()
    let part1 = try makeRun(epochs: 1, saveDir: "parts")
    part1.evaluateAtStart = false
    _ = try part1.train()
    var resumedAt: Int?
    var warnings: [String] = []
    let b = try makeRun(epochs: 3, saveDir: "parts").train { e in
      if case .training(.resumed(let s, _)) = e { resumedAt = s }
      if case .warning(let w) = e { warnings.append(w) }
    }
    XCTAssertEqual(resumedAt, whole.plan(trainEdges: try whole.loadData().train.edges.count).batchesPerEpoch)
    XCTAssertEqual(warnings, [], "only num_epochs changed: no config warning")
    XCTAssertEqual(a.model.stateDict().entries.map { $0.1.tensor.scalars }, b.model.stateDict().entries.map { $0.1.tensor.scalars })
    XCTAssertEqual(a.evaluation, b.evaluation)
    // The final checkpoints agree bit for bit: tables, translations, both optimizers' state, step and negative stream.
    let last = { (run: String) in self.dir.appendingPathComponent("\(run)/checkpoints/step_\(a.step)") }
    for file in ["model.safetensors", "optimizer.safetensors", "state.json"] {
      XCTAssertEqual(try Data(contentsOf: last("whole").appendingPathComponent(file)), try Data(contentsOf: last("parts").appendingPathComponent(file)), file)
    }
  }

  func testResumingWithAChangedConfigWarnsNamingTheCheckpoint() throws {
    let first = try makeRun(epochs: 1)
    first.evaluateAtStart = false
    let done = try first.train()
    var warnings: [String] = []
    _ = try makeRun(epochs: 2, [("adagrad: {lr: 0.05}", "adagrad: {lr: 0.02}")]).train { e in if case .warning(let w) = e { warnings.append(w) } }
    XCTAssertEqual(warnings.count, 1, "\(warnings)")
    XCTAssertTrue(warnings.first?.contains("resuming from \(self.dir.appendingPathComponent("run/checkpoints/step_\(done.step)").path)") == true, "\(warnings)")
  }

  func testTrainingInASaveDirInUseFailsAtOnceNamingTheHolder() throws {
    let r = try makeRun(epochs: 1)
    let lock = try SaveDirLock(saveDir: r.saveDir)
    defer { lock.unlock() }
    XCTAssertThrowsError(try r.train()) { e in XCTAssertTrue("\(e)".contains("save_dir \(r.saveDir.path) is in use by pid \(getpid())"), "\(e)") }
  }

  func testExportWritesEveryTableAndTheTranslationsAndNeighborsUseTheVocab() throws {
    let r = try makeRun(epochs: 1)
    let result = try r.train()
    let out = dir.appendingPathComponent("export")
    let exported = try TwHINCheckpointExport.export(checkpoint: r.saveDir, to: out, relations: r.schema.relations.map(\.name),
                                                    ids: ["user": (0..<200).map { Int64(1000 + $0) }])
    XCTAssertEqual(exported.tables.map(\.0), ["user", "author", "tweet"])
    XCTAssertEqual(exported.files.map(\.lastPathComponent), ["user.safetensors", "author.safetensors", "tweet.safetensors", "user.tsv", "author.tsv",
                                                             "tweet.tsv", "translations.safetensors", "translations.tsv"])
    let user = try SafetensorsFile(contentsOf: out.appendingPathComponent("user.safetensors")).tensor("weight")
    XCTAssertEqual(user.scalars, result.model.tables[0].weight.value.scalars)
    XCTAssertTrue(try String(contentsOf: out.appendingPathComponent("user.tsv"), encoding: .utf8).hasPrefix("1000\t"))
    let translations = try String(contentsOf: out.appendingPathComponent("translations.tsv"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(translations.map { $0.split(separator: "\t")[0] }, ["follow", "fav", "reply", "retweet"])
    XCTAssertEqual(translations[1].split(separator: "\t").count, 9)

    let (model, _) = try r.loadModel(checkpoint: r.saveDir)
    let top = try r.neighbors(model, relation: "fav", lhs: 7, k: 5)
    XCTAssertEqual(top.map(\.row), try model.neighbors(lhs: 7, relation: "fav", k: 5).map(\.id))
    assertTwHINError(["unknown relation \"like\""]) { try r.neighbors(model, relation: "like", lhs: 7, k: 5) }
    assertTwHINError(["is not a checkpoint"]) { try r.loadModel(checkpoint: self.dir.appendingPathComponent("graph")) }
  }

  func testNeighborsMapRawIDsThroughVocabularies() throws {
    let vocab = dir.appendingPathComponent("user_vocab.csv")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try ("id,index\n" + (0..<200).map { "\(5000 + $0),\($0)" }.joined(separator: "\n") + "\n").write(to: vocab, atomically: true, encoding: .utf8)
    // The edge files hold rows, so map the users' rows through a vocab of 5000 + row.
    let r = try makeRun(epochs: 1, [("      - name: user\n        num_embeddings: 200\n", "      - name: user\n        num_embeddings: 200\n        vocab: \(vocab.path)\n")])
    XCTAssertThrowsError(try r.loadData()) { e in XCTAssertTrue("\(e)".contains("is not in the vocab of table \"user\""), "\(e)") }
    let model = try r.makeModel()
    let viaVocab = try r.neighbors(model, relation: "fav", lhs: 5007, k: 3)
    XCTAssertEqual(viaVocab.map(\.row), try model.neighbors(lhs: 7, relation: "fav", k: 3).map(\.id))
    assertTwHINError(["id 7 is not in the vocab of table \"user\""]) { try r.neighbors(model, relation: "fav", lhs: 7, k: 3) }
  }

  func testHoldoutFractionSplitsTheTrainingEdges() throws {
    let r = try makeRun(epochs: 1, [("  data_root: \(dir.appendingPathComponent("graph").path)/heldout/edges.parquet",
                                 "  data_root: \(dir.appendingPathComponent("graph").path)/train/*.parquet\n  holdout_fraction: 0.2")])
    var held: (Int, Int)?
    let d = try r.loadData { e in if case .heldOut(let v, let removed) = e { held = (v, removed) } }
    let all = try EdgeLoader(schema: r.schema).load(r.config.trainData, what: "train_data").edges
    XCTAssertEqual(Double(d.validation.edges.count) / Double(all.count), 0.2, accuracy: 0.03)
    XCTAssertEqual(d.train.edges.count + d.validation.edges.count, all.count, "the planted edges are distinct")
    XCTAssertEqual(held?.0, d.validation.edges.count)
    let train = Set((0..<d.train.edges.count).map { EdgeKey(d.train.edges.lhs[$0], d.train.edges.relations[$0], d.train.edges.rhs[$0]) })
    XCTAssertFalse((0..<d.validation.edges.count).contains { train.contains(EdgeKey(d.validation.edges.lhs[$0], d.validation.edges.relations[$0], d.validation.edges.rhs[$0])) })
  }

  func testPretrainedRowsComeFromSafetensorsAndFP16StoresHalfCheckpoints() throws {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let rows = (0..<(20 * 8)).map { Float($0) / 100 }
    var w = SafetensorsWriter()
    w.add("author_rows", try Tensor(shape: [20, 8], scalars: rows))
    let file = dir.appendingPathComponent("authors.safetensors")
    try w.write(to: file)
    let r = try makeRun(epochs: 1, [
      ("      - name: author\n        num_embeddings: 20\n", "      - name: author\n        num_embeddings: 20\n        pretrained: {emb_name: author_rows, embedding_snapshot_uri: \(file.path)}\n"),
      ("data_type: fp32", "data_type: fp16")])
    XCTAssertEqual(try r.makeModel().tables[1].weight.value.scalars, rows)
    _ = try r.train()
    let f = try SafetensorsFile(contentsOf: CheckpointManager(saveDir: r.saveDir).steps().last!.url.appendingPathComponent("model.safetensors"))
    XCTAssertEqual(f.entries["large_embeddings.ebc.embedding_bags.user.weight"]?.dtype, .f16)
    let bad = try makeRun(epochs: 1, [("      - name: author\n        num_embeddings: 20\n", "      - name: author\n        num_embeddings: 20\n        pretrained: {emb_name: x, embedding_snapshot_uri: gs://b/snap}\n")])
    assertTwHINError(["pretrained", "not a .safetensors file", "torchsnapshot"]) { try bad.makeModel() }
  }
}
