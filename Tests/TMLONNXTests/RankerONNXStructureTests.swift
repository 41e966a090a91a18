import Foundation
import Recap
import SwiftProtobuf
import TMLNN
import TMLONNX
import TMLTensor
import XCTest

/// The exported file's structure: it parses back with swift-protobuf into the same
/// model, the graph is well-formed (`ONNXGraphChecks`), inputs and outputs have a dynamic
/// batch dimension, initializers carry the original's state-dict names, and a block the
/// exporter does not know is an error naming it.
final class RankerONNXStructureTests: XCTestCase {
  func testExportedFileParsesBackAndIsWellFormed() throws {
    let model = try ONNXTestModels.model(ONNXTestModels.everything(), seed: 3)
    let onnx = try RankerONNXExporter.export(model, discreteFeatures: 5)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-\(UUID().uuidString).onnx")
    defer { try? FileManager.default.removeItem(at: url) }
    try RankerONNXExporter.write(onnx, to: url.path)
    let parsed = try Onnx_ModelProto(serializedBytes: [UInt8](try Data(contentsOf: url)))
    XCTAssertEqual(parsed, onnx)
    XCTAssertEqual(ONNXGraphChecks.problems(parsed), [])
    XCTAssertEqual(parsed.irVersion, 8)
    XCTAssertEqual(parsed.opsetImport.map(\.version), [17])

    let inputs = Dictionary(uniqueKeysWithValues: parsed.graph.input.map { ($0.name, ONNXGraphChecks.shape($0)) })
    XCTAssertEqual(inputs, ["continuous": ["batch", "12"], "binary": ["batch", "4"], "user_embedding": ["batch", "6"],
                            "author_embedding": ["batch", "6"], "discrete": ["batch", "5"]])
    XCTAssertEqual(parsed.graph.input.first { $0.name == "discrete" }?.type.tensorType.elemType, ONNXTensorEncoding.int64)
    XCTAssertEqual(parsed.graph.output.map(\.name), ["logits", "probabilities", "calibrated"])
    for o in parsed.graph.output { XCTAssertEqual(ONNXGraphChecks.shape(o), ["batch", "2"], o.name) }
    XCTAssertEqual(parsed.metadataProps.first { $0.key == "tasks" }?.value, "recap.engagement.is_favorited,recap.engagement.is_replied")
  }

  /// Every parameter and running statistic of the model is an initializer under its
  /// state-dict name, with its values (num_batches_tracked, not used in eval, is not).
  func testInitializersCarryTheStateDictNamesAndValues() throws {
    let model = try ONNXTestModels.model(ONNXTestModels.everything(), seed: 4)
    let onnx = try RankerONNXExporter.export(model, discreteFeatures: 5)
    let initializers = Dictionary(onnx.graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let state = model.stateDict()
    for name in state.names where !name.hasSuffix("num_batches_tracked") {
      let t = try XCTUnwrap(initializers[name], "\(name) is not an initializer")
      XCTAssertEqual(t.dims.map { Int($0) }, state[name]!.tensor.shape, name)
      XCTAssertEqual(try ONNXTensorEncoding.floats(t), state[name]!.tensor.scalars, name)
    }
    XCTAssertNotNil(initializers["_backbone._mask_blocks.1._mask_layer.2.weight"])
    XCTAssertNotNil(initializers["_towers.recap__engagement__is_replied._cross_layers.1._down.weight"])
  }

  func testAnUnknownBlockIsAnErrorNamingItsPathAndType() throws {
    final class Attention: RankingBlock {
      var isTraining = false
      var outFeatures: Int { 1 }
      func output(_ x: Tensor) throws -> Tensor { x }
    }
    let g = ONNXGraphBuilder(name: "t")
    let x = g.input("x", shape: [.symbolic("batch"), .fixed(3)])
    XCTAssertThrowsError(try g.rankingBlock(x, Attention(), prefix: "_towers.recap__engagement__is_liked")) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("_towers.recap__engagement__is_liked"), text)
      XCTAssertTrue(text.contains("Attention"), text)
      XCTAssertTrue(text.contains("mlp_config, mask_net_config, dcn_config"), text)
    }
  }

  func testAPositionFeatureOutsideTheDiscreteInputIsRefused() throws {
    let model = try ONNXTestModels.model(ONNXTestModels.everything(), seed: 5)
    XCTAssertThrowsError(try RankerONNXExporter.export(model, discreteFeatures: 2)) { error in
      XCTAssertTrue("\(error)".contains("position_feature_index 3 is outside the 2 discrete features"), "\(error)")
    }
  }
}
