import Foundation
import Recap
import TMLNN
import TMLONNX
import TMLTensor
import XCTest

/// What `tml recap export-onnx`, `export-inputs` and `predict` do, end to end without
/// Python: on TFRecords generated for configs/recap/small.yaml (as committed, and a copy
/// with position debiasing), the exported inputs fed to the exported graph give predict's
/// probabilities within 1e-5, row for row, with predict's meta ids.
final class RankerONNXRoundTripTests: XCTestCase {
  static let repoRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  var work: URL!

  override func setUpWithError() throws {
    work = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-roundtrip-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

  /// predict's TSV as (header, rows).
  func readTSV(_ path: String) throws -> ([String], [[String]]) {
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    return (lines[0], Array(lines.dropFirst()))
  }

  func roundTrip(configPath: String, expectDiscrete: Bool) throws {
    let run = try RecapRun(configPath: configPath, saveDir: work.appendingPathComponent("run").path)
    let files = try run.generateData(examples: 37, outDirectory: work.appendingPathComponent("data"), files: 1)
    let input = try XCTUnwrap(files.first { $0.contains("/train/") })
    let model = try run.makeModel()
    ONNXTestModels.randomizeStatistics(model, seed: 31)
    let predictions = work.appendingPathComponent("predictions.tsv").path
    try run.predict(model: model, inputGlob: input, output: predictions)
    let inputsPath = work.appendingPathComponent("inputs.safetensors").path
    XCTAssertEqual(try RankerInputsExport.write(run: run, inputGlob: input, to: inputsPath), 37)
    XCTAssertThrowsError(try RankerInputsExport.write(run: run, inputGlob: input, to: work.appendingPathComponent("inputs.csv").path)) {
      XCTAssertTrue("\($0)".contains("inputs.csv: name the output *.npz (numpy's np.load) or *.safetensors"), "\($0)")
    }
    let discrete = run.trainData.segDenseSchema.renamedFeatures["discrete"].flatMap { run.schema[$0]?.length }
    let onnx = try RankerONNXExporter.export(model, discreteFeatures: discrete)
    XCTAssertEqual(onnx.graph.input.contains { $0.name == "discrete" }, expectDiscrete)

    let tensors = try SafetensorsFile(contentsOf: URL(fileURLWithPath: inputsPath))
    var feeds: [String: ONNXInterpreter.Value] = [:]
    for i in onnx.graph.input {
      if i.name == "discrete" {
        let d = try tensors.indexTensor("discrete")
        feeds["discrete"] = .int64(d.shape, d.values.map(Int64.init))
      } else {
        let t = try tensors.tensor(i.name)
        feeds[i.name] = .float(t.shape, t.scalars)
      }
    }
    guard case .float(let shape, let p)? = try ONNXInterpreter(model: onnx).run(feeds)["probabilities"] else { return XCTFail("no probabilities") }
    let (header, rows) = try readTSV(predictions)
    XCTAssertEqual(shape, [rows.count, model.taskNames.count])
    var worst: Float = 0
    for (r, row) in rows.enumerated() {
      for (t, task) in model.taskNames.enumerated() {
        let column = try XCTUnwrap(header.firstIndex(of: "\(task)/probability"))
        worst = max(worst, abs(p[r * model.taskNames.count + t] - (Float(row[column]) ?? .nan)))
      }
    }
    XCTAssertLessThanOrEqual(worst, 1e-5, "max |Δ| probabilities vs predict")
    let userIDs = try tensors.indexTensor("meta__user_id").values
    let column = try XCTUnwrap(header.firstIndex(of: "meta__user_id"))
    XCTAssertEqual(userIDs, rows.map { Int($0[column])! }, "the same examples in the same order")
  }

  func testSmallConfigInputsAndGraphGivePredictsProbabilities() throws {
    try roundTrip(configPath: Self.repoRoot.appendingPathComponent("configs/recap/small.yaml").path, expectDiscrete: false)
  }

  func testPositionDebiasingReadsTheDiscreteInput() throws {
    let dir = Self.repoRoot.appendingPathComponent("configs/recap")
    let yaml = try String(contentsOf: dir.appendingPathComponent("small.yaml"), encoding: .utf8)
      .replacingOccurrences(of: "\nmodel:\n", with: "\nmodel:\n  position_debias_config: {max_position: 8, num_dims: 4, drop_probability: 0.2, position_feature_index: 1}\n")
    XCTAssertTrue(yaml.contains("position_debias_config"))
    try yaml.write(to: work.appendingPathComponent("small.yaml"), atomically: true, encoding: .utf8)
    try FileManager.default.copyItem(at: dir.appendingPathComponent("small_segdense.json"), to: work.appendingPathComponent("small_segdense.json"))
    try roundTrip(configPath: work.appendingPathComponent("small.yaml").path, expectDiscrete: true)
  }
}
