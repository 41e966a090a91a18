import Foundation
import Recap
import TMLNN
import TMLONNX
import TMLTensor
import XCTest

/// The exported graph computes what the Swift model computes: run by `ONNXInterpreter`
/// (the ONNX operator semantics, independent of the exporter) on inputs with NaN, ±Inf,
/// huge and tiny values, its logits, probabilities and calibrated probabilities equal the
/// eval-mode Swift forward within 1e-5, for specs covering every emitted layer; and on the
/// PyTorch golden fixture they equal PyTorch's eval outputs.
final class RankerONNXNumericsTests: XCTestCase {
  struct Inputs {
    var continuous: Tensor, binary: Tensor, discrete: IndexTensor?
    var embeddings: [String: Tensor] = [:]
  }

  static func inputs(_ spec: MultiTaskRankingModel.Spec, rows: Int, discreteWidth: Int?, seed: UInt64) throws -> Inputs {
    var rng = RandomGenerator(seed: seed)
    var c = Tensor.normal([rows, spec.continuousFeatures], using: &rng).scalars.map { $0 * 30 }
    let special: [Float] = [.nan, .infinity, -.infinity, 3e38, -1e-9, 1e-8, 0, -0.5]
    for (k, v) in special.enumerated() where k < c.count { c[(k * 7) % c.count] = v }
    let b = Tensor.uniform([rows, spec.binaryFeatures], low: 0, high: 1, using: &rng).scalars.map { $0 < 0.5 ? Float(0) : 1 }
    var x = Inputs(continuous: try Tensor(shape: [rows, spec.continuousFeatures], scalars: c),
                   binary: try Tensor(shape: [rows, spec.binaryFeatures], scalars: b), discrete: nil)
    if let k = discreteWidth {
      x.discrete = try IndexTensor(shape: [rows, k], values: (0..<(rows * k)).map { _ in Int(rng.next() % 13) - 3 })
    }
    for (name, dim) in zip(RankerONNXExporter.embeddingInputs, [spec.userEmbeddingDim, spec.userEngEmbeddingDim, spec.authorEmbeddingDim]) {
      if let dim { x.embeddings[name] = Tensor.normal([rows, dim], using: &rng) }
    }
    return x
  }

  static func feeds(_ x: Inputs) -> [String: ONNXInterpreter.Value] {
    var f: [String: ONNXInterpreter.Value] = ["continuous": .float(x.continuous.shape, x.continuous.scalars),
                                              "binary": .float(x.binary.shape, x.binary.scalars)]
    for (name, t) in x.embeddings { f[name] = .float(t.shape, t.scalars) }
    if let d = x.discrete { f["discrete"] = .int64(d.shape, d.values.map(Int64.init)) }
    return f
  }

  /// max |Δ| of each output between the interpreted graph and `expected`, after checking shapes.
  func differences(_ onnx: Onnx_ModelProto, _ x: Inputs, expected: [String: Tensor], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Float] {
    let out = try ONNXInterpreter(model: onnx).run(Self.feeds(x))
    var worst: [String: Float] = [:]
    for (name, want) in expected {
      guard case .float(let shape, let got)? = out[name] else { XCTFail("no float output \(name)", file: file, line: line); continue }
      XCTAssertEqual(shape, want.shape, name, file: file, line: line)
      worst[name] = zip(got, want.scalars).reduce(Float(0)) { m, p in
        (p.0.isNaN && p.1.isNaN) ? m : Swift.max(m, p.0.isNaN || p.1.isNaN ? .infinity : Swift.abs(p.0 - p.1))
      }
    }
    return worst
  }

  func checkAgainstSwift(_ spec: MultiTaskRankingModel.Spec, discreteWidth: Int?, seed: UInt64) throws {
    let model = try ONNXTestModels.model(spec, seed: seed)
    let x = try Self.inputs(spec, rows: 9, discreteWidth: discreteWidth, seed: seed)
    let out = try noGrad {
      try model(continuous: x.continuous, binary: x.binary, discrete: x.discrete, userEmbedding: x.embeddings["user_embedding"],
                userEngEmbedding: x.embeddings["user_eng_embedding"], authorEmbedding: x.embeddings["author_embedding"])
    }
    XCTAssertTrue(out.probabilities.scalars.allSatisfy(\.isFinite), "the inputs' NaN/Inf are zeroed, so every prediction is finite")
    let onnx = try RankerONNXExporter.export(model, discreteFeatures: discreteWidth)
    XCTAssertEqual(ONNXGraphChecks.problems(onnx), [])
    let d = try differences(onnx, x, expected: ["logits": out.logits, "probabilities": out.probabilities, "calibrated": out.calibratedProbabilities])
    XCTAssertLessThanOrEqual(d["probabilities"]!, 1e-5, "\(d)")
    XCTAssertLessThanOrEqual(d["calibrated"]!, 1e-5, "\(d)")
    XCTAssertLessThanOrEqual(d["logits"]!, 1e-4, "\(d)")
  }

  func testSharePartialSerialMaskNetDCNAndPositionDebiasingMatchTheSwiftModel() throws {
    try checkAgainstSwift(ONNXTestModels.everything(), discreteWidth: 5, seed: 11)
  }

  func testParallelMaskNetShareAllMatchesTheSwiftModel() throws {
    try checkAgainstSwift(ONNXTestModels.parallel(), discreteWidth: nil, seed: 12)
  }

  func testShareNoneWithTheUnknownPositionMatchesTheSwiftModel() throws {
    try checkAgainstSwift(ONNXTestModels.towersOnly(), discreteWidth: nil, seed: 13)
  }

  /// A different batch size than any other test: the batch dimension is not baked in.
  func testTheBatchDimensionIsDynamic() throws {
    let spec = ONNXTestModels.everything()
    let model = try ONNXTestModels.model(spec, seed: 14)
    let onnx = try RankerONNXExporter.export(model, discreteFeatures: 5)
    for rows in [1, 4] {
      let x = try Self.inputs(spec, rows: rows, discreteWidth: 5, seed: UInt64(rows))
      let out = try ONNXInterpreter(model: onnx).run(Self.feeds(x))
      XCTAssertEqual(out["probabilities"]?.shape, [rows, 2])
    }
  }

  /// The weights of tools/golden/make_recap_fixtures.py's PyTorch ranker: the graph's
  /// outputs equal PyTorch's eval outputs on the fixture's batch (NaN/Inf inputs included).
  func testGoldenFixtureGraphMatchesPyTorch() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/recap/recap_golden.safetensors")
    let f = try SafetensorsFile(contentsOf: url)
    let tasks = ["recap.engagement.is_favorited", "recap.engagement.is_replied", "recap.engagement.is_report_tweet_clicked"]
    let rates: [(Double, Double)] = [(1.0, 0.05), (0.9, 0.01), (1.0, 1.0)]
    let tower = ArchitectureSpec.mlp(MLPSpec(layerSizes: [16, 8, 1], batchNorm: .init(affine: false, momentum: 0.1), dropout: 0.1))
    let spec = MultiTaskRankingModel.Spec(
      continuousFeatures: 64, binaryFeatures: 16, batchNorm: .init(affine: true, momentum: 0.01), clipMagnitude: 5,
      layerNorm: (0, true), userEmbeddingDim: 8, userEngEmbeddingDim: 8, authorEmbeddingDim: 8, multiTaskType: .shareAll,
      backbone: .maskNet(blocks: [.init(outputSize: 16, aggregationSize: 32), .init(outputSize: 16, aggregationSize: 32)],
                         mlp: MLPSpec(layerSizes: [32], finalLayerActivation: true), useParallel: true),
      tasks: tasks.enumerated().map { i, name in
        .init(name: name, architecture: tower, affineMap: name == "recap.engagement.is_replied" ? (1.5, -0.25) : nil,
              posDownsamplingRate: rates[i].0, negDownsamplingRate: rates[i].1)
      })
    let model = try MultiTaskRankingModel(spec)
    var state = StateDict()
    for name in f.names where name.hasPrefix("state.") {
      state[String(name.dropFirst(6))] = .init(try f.tensor(name), dtype: f.entries[name]!.dtype)
    }
    try model.loadStateDict(state)
    model.eval()
    let x = Inputs(continuous: try f.tensor("input.continuous"), binary: try f.tensor("input.binary"), discrete: nil,
                   embeddings: ["user_embedding": try f.tensor("input.user_embedding"), "user_eng_embedding": try f.tensor("input.user_eng_embedding"),
                                "author_embedding": try f.tensor("input.author_embedding")])
    let d = try differences(try RankerONNXExporter.export(model), x,
                            expected: ["logits": try f.tensor("eval.logits"), "probabilities": try f.tensor("eval.probabilities"),
                                       "calibrated": try f.tensor("eval.calibrated")])
    XCTAssertLessThanOrEqual(d["probabilities"]!, 1e-5, "\(d)")
    XCTAssertLessThanOrEqual(d["calibrated"]!, 1e-5, "\(d)")
    XCTAssertLessThanOrEqual(d["logits"]!, 1e-4, "\(d)")
  }
}
