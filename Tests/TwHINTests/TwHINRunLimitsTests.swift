import Foundation
import TMLNN
import TMLTensor
import TMLTrain
import XCTest
@testable import TwHIN

/// What a TwHIN run refuses: configs that cannot fit in memory (before any table is
/// allocated) and tables that are, or become, NaN or infinite.
extension TwHINRunTests {
  func testAnImpossibleNumEmbeddingsIsRefusedNamingTheKeyAndTheBytes() throws {
    assertTwHINError(["model.embeddings.tables[user].num_embeddings = 1000000000000000", "the run would need about", "bytes", "this machine has"]) {
      try makeRun([("num_embeddings: 200", "num_embeddings: 1000000000000000")])
    }
  }

  func testAnImpossibleBatchSizeIsRefusedNamingTheKey() throws {
    assertTwHINError(["per_replica_batch_size = 100000000000000000", "bytes"]) {
      try makeRun([("per_replica_batch_size: 64", "per_replica_batch_size: 100000000000000000")])
    }
  }

  func testImpossibleInBatchNegativesAreRefusedNamingTheKey() throws {
    assertTwHINError(["in_batch_negatives = 100000000000000", "bytes"]) {
      try makeRun([("in_batch_negatives: 10", "in_batch_negatives: 100000000000000")])
    }
  }

  func testAnEmbeddingDimOfIntMaxIsRefusedWithoutOverflowing() throws {
    assertTwHINError(["embedding_dim", "bytes"]) {
      try makeRun([("embedding_dim: 8", "embedding_dim: 9223372036854775807")])
    }
  }

  func testTheProjectConfigFitsA24GiBMachineAndATenMillionRowTableToo() throws {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let planted = try TwHINRun(configPath: repo.appendingPathComponent("configs/twhin/planted.yaml").path)
    XCTAssertNoThrow(try planted.memoryEstimate.check(availableBytes: 24 << 30))
    var big = planted.config
    big.model.embeddings.tables[0].numEmbeddings = 10_000_000
    big.model.embeddings.tables[0].embeddingDim = 200
    let estimate = MemoryEstimate(twhin: big)
    XCTAssertGreaterThan(estimate.totalBytes, 2 * 10_000_000 * 200 * 4, "table and its checkpoint copy")
    XCTAssertNoThrow(try estimate.check(availableBytes: 24 << 30))
  }

  func testAPretrainedTableHoldingNaNIsRefusedNamingTheFile() throws {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    var rows = [Float](repeating: 0.5, count: 20 * 8)
    rows[13] = .nan
    var w = SafetensorsWriter()
    w.add("author_rows", try Tensor(shape: [20, 8], scalars: rows))
    let file = dir.appendingPathComponent("authors.safetensors")
    try w.write(to: file)
    let r = try makeRun(epochs: 1, [("      - name: author\n        num_embeddings: 20\n",
                                     "      - name: author\n        num_embeddings: 20\n        pretrained: {emb_name: author_rows, embedding_snapshot_uri: \(file.path)}\n")])
    assertTwHINError([file.path, "author_rows", "nan", "[1, 5]"]) { try r.makeModel() }
  }

}

/// The trainer's checks of its model: at log steps and when a step fails.
final class TwHINNonFiniteTests: XCTestCase {
  func trainer(_ model: TwHINModel) throws -> TwHINTrainer {
    try TwHINTrainer(model: model, loss: TwHINLoss(inBatchNegatives: 2), tableOptimizers: Array(repeating: .sgd(.constant(0.1)), count: 3),
                     translationOptimizer: .sgd(.constant(0.1)))
  }

  func testTheLogStepCheckNamesTheNonFiniteRowAndTheStep() throws {
    let (_, model, batch, negatives) = try TwHINFixtures.goldenSetup()
    let t = try trainer(model)
    try t.step(batch, negatives: negatives)
    XCTAssertNoThrow(try t.checkFiniteState())
    model.tables[2].weight.value.withUnsafeMutableBufferPointer { $0[4 * 3 + 1] = -.infinity }
    assertTwHINError(["step 1", "parameter large_embeddings.ebc.embedding_bags.author.weight holds -inf at [3, 1]"]) {
      try t.checkFiniteState()
    }
  }

  func testAStepThatMeetsANaNRowNamesIt() throws {
    let (_, model, batch, negatives) = try TwHINFixtures.goldenSetup()
    let t = try trainer(model)
    let table = model.schema.lhsTable[batch.relations[0]], row = batch.lhs[0]
    model.tables[table].weight.value.withUnsafeMutableBufferPointer { $0[4 * row] = .nan }
    let name = model.schema.tables[table].name
    assertTwHINError(["TwHIN step 0", "non-finite", "parameter large_embeddings.ebc.embedding_bags.\(name).weight holds nan at [\(row), 0]"]) {
      try t.step(batch, negatives: negatives)
    }
  }
}
