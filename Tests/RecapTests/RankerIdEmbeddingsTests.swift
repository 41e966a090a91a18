import Foundation
import XCTest
@testable import Recap
import TMLData
import TMLNN
import TMLTensor
import TMLTrain

/// The ranker's id-embedding tables (`large_embeddings`, `small_embeddings`): state names,
/// finite-difference gradients, id checks, and the example config end to end.
final class RankerIdEmbeddingsTests: XCTestCase {
  static let large = [IdEmbeddingTableSpec(name: "meta__author_id", numEmbeddings: 7, embeddingDim: 3),
                      IdEmbeddingTableSpec(name: "tags", numEmbeddings: 5, embeddingDim: 2)]
  static let small = [IdEmbeddingTableSpec(name: "disc", numEmbeddings: 6, embeddingDim: 2, discreteIndex: 1)]

  func model(learningRate: Float = 1) throws -> MultiTaskRankingModel {
    let tower = ArchitectureSpec.mlp(MLPSpec(layerSizes: [4, 1], batchNorm: nil, dropout: nil, finalLayerActivation: false))
    let spec = MultiTaskRankingModel.Spec(
      continuousFeatures: 3, binaryFeatures: 2, multiTaskType: .shareNone, backbone: nil,
      tasks: [.init(name: "a.b", architecture: tower), .init(name: "c", architecture: tower)],
      largeEmbeddings: Self.large, largeEmbeddingLearningRate: .constant(learningRate), smallEmbeddings: Self.small)
    return try MultiTaskRankingModel(spec, seed: 3)
  }

  // Batch of 3: author ids one per example; `tags` bags of sizes 2, 0, 3 (a repeat).
  let authors = IdBags(ids: [2, 5, 2], offsets: [0, 1, 2])
  let tags = IdBags(ids: [1, 4, 0, 0, 3], offsets: [0, 2, 2])
  let discrete = try! IndexTensor(shape: [3, 2], values: [9, 4, 9, 0, 9, 4])

  func loss(_ m: MultiTaskRankingModel, _ x: (Tensor, Tensor), _ w: Tensor) throws -> Tensor {
    let out = try m(continuous: x.0, binary: x.1, discrete: discrete, idFeatures: ["meta__author_id": authors, "tags": tags])
    return try (out.logits * w).sum()
  }

  func testStateDictNamesAreTheOriginals() throws {
    let state = try model().stateDict()
    XCTAssertEqual(state["embeddings.ebc.embedding_bags.meta__author_id.weight"]?.tensor.shape, [7, 3])
    XCTAssertEqual(state["embeddings.ebc.embedding_bags.tags.weight"]?.tensor.shape, [5, 2])
    XCTAssertEqual(state["small_embeddings.embedding_bags.disc.weight"]?.tensor.shape, [6, 2])
    // The towers see 3 + 2 continuous/binary + 3 + 2 large + 2 small inputs.
    XCTAssertEqual(state["_towers.a__b.layers.0.weight"]?.tensor.shape, [4, 12])
  }

  /// Backward's sparse row gradients (read off a fused SGD step with lr 1) and the small
  /// table's dense gradient equal central differences of the loss.
  func testGradientsOfBothTableKindsMatchFiniteDifferences() throws {
    let m = try model(learningRate: 1)
    m.setTraining(false)
    var rng = RandomGenerator(seed: 11, stream: 1)
    let x = (Tensor.normal([3, 3], using: &rng), try Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1]))
    let w = Tensor.normal([3, 2], using: &rng)
    let author = m.largeEmbeddings!.ebc.bags[0].weight, tag = m.largeEmbeddings!.ebc.bags[1].weight
    let disc = m.smallEmbeddings!.ebc.bags[0].weight
    let before = (author.value.scalars, tag.value.scalars)
    try loss(m, x, w).backward()
    let authorGrad = zip(before.0, author.value.scalars).map { $0 - $1 }
    let tagGrad = zip(before.1, tag.value.scalars).map { $0 - $1 }
    let discGrad = try XCTUnwrap(disc.grad).scalars
    // Restore the tables, then perturb each entry.
    author.value.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = before.0[i] } }
    tag.value.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = before.1[i] } }
    let eps: Float = 1e-2
    func numeric(_ p: Parameter, _ i: Int) throws -> Float {
      let v = p.value.scalars[i]
      func at(_ u: Float) throws -> Float {
        p.value.withUnsafeMutableBufferPointer { $0[i] = u }
        return try noGrad { try loss(m, x, w).scalars[0] }
      }
      let d = (try at(v + eps) - at(v - eps)) / (2 * eps)
      p.value.withUnsafeMutableBufferPointer { $0[i] = v }
      return d
    }
    var checked = 0
    for (p, analytic) in [(author, authorGrad), (tag, tagGrad), (disc, discGrad)] {
      for i in 0..<analytic.count {
        let fd = try numeric(p, i)
        XCTAssertEqual(analytic[i], fd, accuracy: 2e-3 + 2e-2 * abs(fd), "entry \(i)")
        if abs(fd) > 1e-3 { checked += 1 }
      }
    }
    XCTAssertGreaterThan(checked, 10, "non-trivial gradients were compared")
    // Untouched rows get no gradient: author rows 0, 1, 3, 4, 6 and tag row 2; disc rows other than 0 and 4.
    for r in [0, 1, 3, 4, 6] { XCTAssertEqual(authorGrad[(r * 3)..<(r * 3 + 3)].map(abs).max(), 0) }
    XCTAssertEqual(tagGrad[4..<6].map(abs).max(), 0)
    for r in [1, 2, 3, 5] { XCTAssertEqual(discGrad[(r * 2)..<(r * 2 + 2)].map(abs).max(), 0) }
  }

  /// configs/recap/small_embeddings.yaml with its data and save dir under a temp directory.
  func exampleConfig(steps: Int, in dir: URL) throws -> String {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let text = editedConfig(try String(contentsOf: repo.appendingPathComponent("configs/recap/small_embeddings.yaml"), encoding: .utf8), [("data/recap_small_embeddings", dir.appendingPathComponent("data").path),
                   ("save_dir: runs/recap_small_embeddings", "save_dir: \(dir.appendingPathComponent("run").path)"),
                   ("num_train_steps: 1000", "num_train_steps: \(steps)"), ("checkpoint_every_n: 250", "checkpoint_every_n: 20"),
                   ("train_log_every_n: 50", "train_log_every_n: 10"),
                   ("schema_path: small_segdense.json", "schema_path: \(repo.appendingPathComponent("configs/recap/small_segdense.json").path)")],
                            name: "small_embeddings.yaml")
    let path = dir.appendingPathComponent("small_embeddings.yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// The example config: generated data carries ids inside the tables; training moves
  /// the tables; the checkpoint holds them under the original's names; a fresh process
  /// (a new RecapRun) loads it and predicts.
  func testExampleConfigGeneratesTrainsCheckpointsAndPredicts() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recap-idemb-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try RecapRun(configPath: try exampleConfig(steps: 40, in: dir))
    XCTAssertEqual(run.spec.largeEmbeddings.map(\.name), ["meta__author_id"])
    XCTAssertEqual(run.spec.smallEmbeddings.map(\.discreteIndex), [0, 1])
    XCTAssertNil(run.spec.authorEmbeddingDim)
    try run.generateData(examples: 1_000, files: 2)
    let pipe = try run.pipeline(run.trainData, epochs: 1, shuffle: false)
    let batch = try XCTUnwrap(try pipe.next())
    let ids = try XCTUnwrap(batch.meta["meta__author_id"])
    XCTAssertEqual(ids.count, batch.size)
    XCTAssertTrue(ids.allSatisfy { $0 >= 0 && $0 < 1000 }, "author ids inside the table")
    XCTAssertGreaterThan(Set(ids).count, batch.size / 2, "ids are spread over the table")
    let initial = try run.makeModel().stateDict()
    var losses: [Int: Double] = [:]
    try run.train(onEvent: { if case .logged(let step, let v) = $0 { losses[step] = v["loss"] } })
    XCTAssertEqual(losses.keys.sorted(), [10, 20, 30, 40])

    let fresh = try RecapRun(configPath: try exampleConfig(steps: 40, in: dir))
    let (model, step) = try fresh.loadModel(checkpoint: fresh.saveDir)
    XCTAssertEqual(step, 40)
    for name in ["embeddings.ebc.embedding_bags.meta__author_id.weight", "small_embeddings.embedding_bags.discrete_0.weight"] {
      let a = try XCTUnwrap(initial[name]).tensor.scalars, b = try XCTUnwrap(model.stateDict()[name]).tensor.scalars
      XCTAssertEqual(a.count, b.count)
      XCTAssertGreaterThan(zip(a, b).map { abs($0 - $1) }.max() ?? 0, 1e-4, "\(name) was trained")
    }
    let output = dir.appendingPathComponent("preds.tsv").path
    let n = try fresh.predict(model: model, inputGlob: dir.appendingPathComponent("data/validation/part-0.tfrecord.gz").path, output: output)
    XCTAssertEqual(n.rows, 100)
    XCTAssertEqual(try PredictionTable(path: output).rows.count, 100)
  }

  func testIdsOutsideTheTableNameFeatureIdAndTable() throws {
    let m = try model()
    let x = (Tensor.zeros([3, 3]), Tensor.zeros([3, 2]))
    XCTAssertThrowsError(try m(continuous: x.0, binary: x.1, discrete: discrete,
                               idFeatures: ["meta__author_id": IdBags(ids: [2, 7, 1], offsets: [0, 1, 2]), "tags": tags])) {
      XCTAssertTrue("\($0)".contains("meta__author_id has id 7, outside table meta__author_id's 7 rows"), "\($0)")
    }
    let bad = try IndexTensor(shape: [3, 2], values: [0, 6, 0, 0, 0, 0])
    XCTAssertThrowsError(try m(continuous: x.0, binary: x.1, discrete: bad, idFeatures: ["meta__author_id": authors, "tags": tags])) {
      XCTAssertTrue("\($0)".contains("discrete[:, 1] has id 6, outside table disc's 6 rows"), "\($0)")
    }
    XCTAssertThrowsError(try m(continuous: x.0, binary: x.1, discrete: discrete, idFeatures: ["tags": tags])) {
      XCTAssertTrue("\($0)".contains("table meta__author_id reads the feature meta__author_id"), "\($0)")
    }
  }
}
