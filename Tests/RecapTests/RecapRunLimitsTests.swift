import Foundation
import XCTest
@testable import Recap
import TMLNN
import TMLTensor
import TMLTrain

/// What a ranker run refuses: configs that cannot fit in memory (before the model is
/// built) and checkpoints whose weights are NaN or infinite.
extension RecapRunTests {
  /// `tinyConfig` with `edits` applied to its text (each must occur).
  func config(_ edits: [(String, String)]) throws -> String {
    let path = try tinyConfig(steps: 1)
    let text = editedConfig(try String(contentsOfFile: path, encoding: .utf8), edits, name: "config")
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func assertRefused(_ edits: [(String, String)], mentioning parts: [String], file: StaticString = #filePath, line: UInt = #line) throws {
    let path = try config(edits)
    do {
      _ = try RecapRun(configPath: path)
      XCTFail("an impossible config was accepted", file: file, line: line)
    } catch let e as TrainError {
      for p in parts + ["the run would need about", "bytes", "this machine has"] where !e.message.contains(p) {
        XCTFail("\(p) missing from: \(e.message)", file: file, line: line)
      }
    }
  }

  func testAnImpossibleTowerLayerSizeIsRefusedNamingTheKeyAndTheBytes() throws {
    try assertRefused([("layer_sizes: [32, 16, 1]", "layer_sizes: [32000000000000, 16, 1]")],
                      mentioning: ["model.tasks[\"recap.engagement.is_favorited\"].mlp_config.layer_sizes[0] = 32000000000000"])
  }

  func testAnImpossibleMaskBlockSizeIsRefusedNamingTheKey() throws {
    try assertRefused([("- aggregation_size: 64", "- aggregation_size: 6400000000000")],
                      mentioning: ["model.backbone.mask_net_config.mask_blocks[0].aggregation_size = 6400000000000"])
  }

  func testAnImpossibleBatchSizeIsRefusedNamingTheKey() throws {
    try assertRefused([("global_batch_size: 128", "global_batch_size: 128000000000000")],
                      mentioning: ["train_data.global_batch_size = 128000000000000"])
  }

  func testAnIdTableTooLargeForThisMachineIsRefusedAndSplitOverTheRanks() throws {
    let table = "  multi_task_type: share_all\n  large_embeddings:\n    tables:\n      - name: meta__author_id\n        num_embeddings: 40000000000\n        embedding_dim: 8\n    optimizer:\n      init_learning_rate: 0.05\n"
    let edits = [("  multi_task_type: share_all\n", table), ("      author_embedding: author.twhin_follow_embedding\n", "")]
    try assertRefused(edits, mentioning: ["model.large_embeddings.tables[0].num_embeddings = 40000000000"])
    // 40 G rows × 8 floats × 2 copies = 2.56 TB in one process; each of 64 ranks holds 1/64.
    let tower = ArchitectureSpec.mlp(MLPSpec(layerSizes: [1], batchNorm: nil, dropout: nil, finalLayerActivation: false))
    let spec = MultiTaskRankingModel.Spec(continuousFeatures: 3, binaryFeatures: 2, multiTaskType: .shareNone, backbone: nil,
                                          tasks: [.init(name: "t", architecture: tower)],
                                          largeEmbeddings: [IdEmbeddingTableSpec(name: "meta__author_id", numEmbeddings: 40_000_000_000, embeddingDim: 8)])
    let recap = try RecapConfig.load(from: try tinyConfig(steps: 1))
    let one = MemoryEstimate(recap: recap, spec: spec, ranks: 1), many = MemoryEstimate(recap: recap, spec: spec, ranks: 64)
    XCTAssertGreaterThan(one.totalBytes, 2_560_000_000_000)
    XCTAssertLessThan(many.totalBytes, one.totalBytes / 60)
  }

  func testALayerSizeWhoseBytesOverflowIsRefused() throws {
    try assertRefused([("layer_sizes: [32, 16, 1]", "layer_sizes: [4611686018427387904, 4611686018427387904, 1]")],
                      mentioning: ["layer_sizes[", "more than 9223372036854775807 bytes"])
  }

  func testALayerSizeOfIntMaxIsRefusedWithoutOverflowing() throws {
    try assertRefused([("layer_sizes: [32, 16, 1]", "layer_sizes: [9223372036854775807, 1]")],
                      mentioning: ["layer_sizes[", "bytes"])
  }

  func testTheProductionConfigFitsA24GiBMachine() throws {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let run = try RecapRun(configPath: repo.appendingPathComponent("configs/recap/production.yaml").path)
    let estimate = run.memoryEstimate
    XCTAssertNoThrow(try estimate.check(availableBytes: 24 << 30))
    // 48M parameters × 8 copies (value, gradient, Adam's 2 moments, packed and checkpoint
    // copies) ≈ 1.5 GB; measured: 6 steps and an evaluation peak at 2.0 GB resident.
    let parameters = try run.makeModel().parameterCount
    XCTAssertGreaterThan(estimate.totalBytes, parameters * 4 * 8)
    XCTAssertLessThan(estimate.totalBytes, 4 << 30)
  }

  func testLoadingACheckpointWithANaNWeightForPredictionThrowsNamingTheWeightAndTheFile() throws {
    let run = try RecapRun(configPath: try tinyConfig(steps: 1))
    var state = try run.makeModel().stateDict()
    let name = "_backbone._mask_blocks.1._hidden_layer.weight"
    var w = try XCTUnwrap(state[name]).tensor
    w.withUnsafeMutableBufferPointer { $0[70] = .nan }
    state[name] = .init(w)
    try CheckpointManager(saveDir: run.saveDir).save(step: 1, model: state, optimizer: StateDict(), state: .init(step: 1))
    XCTAssertThrowsError(try run.loadModel(checkpoint: run.saveDir)) {
      let file = run.saveDir.appendingPathComponent("checkpoints/step_1/model.safetensors").path
      for part in [file, "parameter \(name) holds nan"] { XCTAssertTrue("\($0)".contains(part), "\(part) missing from: \($0)") }
    }
  }
}
