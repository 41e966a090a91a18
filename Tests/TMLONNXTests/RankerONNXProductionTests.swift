import Foundation
import Recap
import TMLData
import TMLNN
import TMLONNX
import TMLTensor
import TMLTrain
import XCTest

/// The production Heavy Ranker (parallel MaskNet of 4×1024 with an MLP [2048], 10 towers
/// 256-128-1 with batch norm, 2117 + 59 features, three 200-d embeddings) exports: its
/// graph is well-formed and computes the Swift model's predictions; and the original's
/// reference config `recap_local_prod.yaml`, loaded unchanged, gives the same graph.
final class RankerONNXProductionTests: XCTestCase {
  static let repoRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// (name, dims) of the graph's inputs, outputs and initializers: what a config decides.
  static func signature(_ m: Onnx_ModelProto) -> [String] {
    m.graph.input.map { "input \($0.name) \(ONNXGraphChecks.shape($0))" } + m.graph.output.map { "output \($0.name) \(ONNXGraphChecks.shape($0))" }
      + m.graph.initializer.map { "initializer \($0.name) \($0.dims)" } + m.graph.node.map { "node \($0.opType) \($0.input) → \($0.output)" }
  }

  func testProductionArchitectureExportsAndMatchesTheSwiftModel() throws {
    let spec = ProductionArchitecture.spec()
    let model = try ONNXTestModels.model(spec, seed: 21)
    let onnx = try RankerONNXExporter.export(model)
    XCTAssertEqual(ONNXGraphChecks.problems(onnx), [])
    XCTAssertEqual(Set(onnx.graph.input.map { "\($0.name) \(ONNXGraphChecks.shape($0))" }),
                   ["continuous [\"batch\", \"2117\"]", "binary [\"batch\", \"59\"]", "user_embedding [\"batch\", \"200\"]",
                    "user_eng_embedding [\"batch\", \"200\"]", "author_embedding [\"batch\", \"200\"]"])
    XCTAssertEqual(onnx.graph.node.filter { $0.opType == "LayerNormalization" }.count, 3 + 4, "embedding norms and the mask blocks' norms")
    XCTAssertEqual(onnx.graph.node.filter { $0.opType == "BatchNormalization" }.count, 1 + 10 * 2)
    // The weights are the state dict's (names of exporter constants contain a "/").
    let state = Set(model.stateDict().names.filter { !$0.hasSuffix("num_batches_tracked") })
    XCTAssertEqual(Set(onnx.graph.initializer.map(\.name).filter { !$0.contains("/") }), state)

    let rows = 2
    let x = try RankerONNXNumericsTests.inputs(spec, rows: rows, discreteWidth: nil, seed: 21)
    let out = try noGrad {
      try model(continuous: x.continuous, binary: x.binary, userEmbedding: x.embeddings["user_embedding"],
                userEngEmbedding: x.embeddings["user_eng_embedding"], authorEmbedding: x.embeddings["author_embedding"])
    }
    let result = try ONNXInterpreter(model: onnx).run(RankerONNXNumericsTests.feeds(x))
    guard case .float(let shape, let p)? = result["probabilities"] else { return XCTFail("no probabilities") }
    XCTAssertEqual(shape, [rows, 10])
    let worst = zip(p, out.probabilities.scalars).map { abs($0 - $1) }.max() ?? .nan
    XCTAssertLessThanOrEqual(worst, 1e-5, "max |Δ| probabilities, production architecture")
  }

  /// `recap_local_prod.yaml` and its `segdense.json` from the original (../shared/reference
  /// beside the repository, or $TML_REFERENCE_DIR), loaded unchanged with TML_BASE pointing
  /// at a copy of the schema where the config expects it.
  func testReferenceConfigExportsTheProductionGraph() throws {
    let dir = ProcessInfo.processInfo.environment["TML_REFERENCE_DIR"].map { URL(fileURLWithPath: $0) }
      ?? Self.repoRoot.appendingPathComponent("../shared/reference").standardizedFileURL
    let configURL = dir.appendingPathComponent("recap_local_prod.yaml")
    guard FileManager.default.fileExists(atPath: configURL.path) else {
      throw XCTSkip("\(configURL.path) absent: the original's reference configs are not checked out beside the repository")
    }
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-reference-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: base) }
    let schemaDir = base.appendingPathComponent("projects/home/recap/config/home_recap_2022")
    try FileManager.default.createDirectory(at: schemaDir, withIntermediateDirectories: true)
    try FileManager.default.copyItem(at: dir.appendingPathComponent("segdense.json"), to: schemaDir.appendingPathComponent("segdense.json"))
    let config = try RecapConfig.load(from: configURL.path, environment: ["HOME": base.path, "TML_BASE": base.path])
    let data = try RecapConfigConversion.data(config.trainData, name: "train_data", configDirectory: dir)
    let schema = try SegdenseSchema(contentsOf: URL(fileURLWithPath: data.segDenseSchema.schemaPath))
    let spec = try RecapConfigConversion.modelSpec(config, data: data, schema: schema)
    let discrete = data.segDenseSchema.renamedFeatures["discrete"].flatMap { schema[$0]?.length }
    let reference = try RankerONNXExporter.export(try MultiTaskRankingModel(spec), discreteFeatures: discrete)
    // Dropout has no node in eval mode, but it shifts a tower's module indices (layers.4 →
    // the second Linear), so equal names also check the towers' dropout (0.1 on negative
    // feedback, 0.2 on report clicks) — and that the original's checkpoints load into it.
    let production = try RankerONNXExporter.export(try MultiTaskRankingModel(ProductionArchitecture.spec()))
    XCTAssertEqual(try MultiTaskRankingModel(ProductionArchitecture.spec()).stateDict().names,
                   try MultiTaskRankingModel(spec).stateDict().names)
    XCTAssertEqual(ONNXGraphChecks.problems(reference), [])
    XCTAssertEqual(Self.signature(reference), Self.signature(production))
  }
}
