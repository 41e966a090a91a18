import Foundation
import XCTest
@testable import Recap
import TMLNN
import TMLTensor

/// Parity with a PyTorch ranker of the original's structure and names
/// (tools/golden/make_recap_fixtures.py → Tests/Fixtures/recap/recap_golden.safetensors).
final class RecapGoldenTests: XCTestCase {
  static let tasks = ["recap.engagement.is_favorited", "recap.engagement.is_replied", "recap.engagement.is_report_tweet_clicked"]

  func fixture() throws -> SafetensorsFile {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/recap/recap_golden.safetensors")
    return try SafetensorsFile(contentsOf: url)
  }

  func spec(dropout: Float) -> MultiTaskRankingModel.Spec {
    let rates: [(Double, Double)] = [(1.0, 0.05), (0.9, 0.01), (1.0, 1.0)]
    let posWeights: [Float] = [1.0, 2.0, 0.5]
    let tower = ArchitectureSpec.mlp(MLPSpec(layerSizes: [16, 8, 1], batchNorm: .init(affine: false, momentum: 0.1), dropout: dropout))
    return MultiTaskRankingModel.Spec(
      continuousFeatures: 64, binaryFeatures: 16, batchNorm: .init(affine: true, momentum: 0.01), clipMagnitude: 5,
      layerNorm: (0, true), userEmbeddingDim: 8, userEngEmbeddingDim: 8, authorEmbeddingDim: 8,
      multiTaskType: .shareAll,
      backbone: .maskNet(blocks: [.init(outputSize: 16, aggregationSize: 32), .init(outputSize: 16, aggregationSize: 32)],
                         mlp: MLPSpec(layerSizes: [32], finalLayerActivation: true), useParallel: true),
      tasks: Self.tasks.enumerated().map { i, name in
        .init(name: name, architecture: tower, affineMap: name == "recap.engagement.is_replied" ? (1.5, -0.25) : nil,
              posWeight: posWeights[i], posDownsamplingRate: rates[i].0, negDownsamplingRate: rates[i].1)
      })
  }

  func loadedModel(dropout: Float, _ f: SafetensorsFile) throws -> MultiTaskRankingModel {
    let model = try MultiTaskRankingModel(spec(dropout: dropout))
    var state = StateDict()
    for name in f.names where name.hasPrefix("state.") {
      let key = String(name.dropFirst("state.".count))
      state[key] = .init(try f.tensor(name), dtype: f.entries[name]!.dtype)
    }
    try model.loadStateDict(state)  // strict: names and shapes must equal PyTorch's
    return model
  }

  func assertClose(_ a: Tensor, _ b: Tensor, rtol: Float, atol: Float, _ what: String) {
    XCTAssertEqual(a.shape, b.shape, what)
    var worst: Float = 0
    for (x, y) in zip(a.scalars, b.scalars) { worst = max(worst, abs(x - y) / max(atol, rtol * abs(y))) }
    XCTAssertLessThanOrEqual(worst, 1, "\(what): worst |Δ|/tol = \(worst)")
  }

  func inputs(_ f: SafetensorsFile) throws -> (Tensor, Tensor, Tensor, Tensor, Tensor) {
    (try f.tensor("input.continuous"), try f.tensor("input.binary"), try f.tensor("input.user_embedding"),
     try f.tensor("input.user_eng_embedding"), try f.tensor("input.author_embedding"))
  }

  func testStateDictNamesEqualTheOriginalModules() throws {
    let f = try fixture()
    let model = try MultiTaskRankingModel(spec(dropout: 0.1))
    let ours = Set(model.stateDict().names)
    let theirs = Set(f.names.filter { $0.hasPrefix("state.") }.map { String($0.dropFirst(6)) })
    XCTAssertEqual(ours.subtracting(theirs), [], "names only we have")
    XCTAssertEqual(theirs.subtracting(ours), [], "names only PyTorch has")
    XCTAssertTrue(ours.contains("_preprocessor._before_concat_layers.2.layer.running_mean"))
    XCTAssertTrue(ours.contains("_preprocessor._before_concat_layers.3.min_value"))
    XCTAssertTrue(ours.contains("_towers.recap__engagement__is_favorited.layers.8.weight"))
    XCTAssertTrue(ours.contains("_affine_maps.recap__engagement__is_replied.weight"))
    XCTAssertTrue(ours.contains("_calibrators.recap__engagement__is_report_tweet_clicked.ratio"))
  }

  func testEvalOutputsMatchPyTorch() throws {
    let f = try fixture()
    let model = try loadedModel(dropout: 0.1, f)
    model.eval()
    let (c, b, ue, uee, ae) = try inputs(f)
    let out = try noGrad { try model(continuous: c, binary: b, userEmbedding: ue, userEngEmbedding: uee, authorEmbedding: ae) }
    assertClose(out.logits, try f.tensor("eval.logits"), rtol: 1e-5, atol: 1e-5, "logits")
    assertClose(out.probabilities, try f.tensor("eval.probabilities"), rtol: 1e-5, atol: 1e-5, "probabilities")
    assertClose(out.calibratedProbabilities, try f.tensor("eval.calibrated"), rtol: 1e-5, atol: 1e-5, "calibrated")
  }

  /// Inference fusion (BatchNorm folded into the Linear before it, ReLU epilogues, the
  /// one-pass input featurization) on every GEMM kernel and in bf16: equal to the op-by-op
  /// eval forward (run with autograd on, which disables fusion) and, in fp32, to PyTorch.
  func testFusedInferenceEqualsTheOpByOpEvalForwardOnEveryKernel() throws {
    let f = try fixture()
    let (c, b, ue, uee, ae) = try inputs(f)
    let saved = (GEMMKernel.variant, GEMMKernel.minimumRowsForPacking)
    defer { (GEMMKernel.variant, GEMMKernel.minimumRowsForPacking) = saved; Precision.inference = .fp32 }
    GEMMKernel.minimumRowsForPacking = 1
    for variant in GEMMKernel.Variant.allCases where variant.isSupported {
      for precision in [Precision.fp32, .bf16] {
        GEMMKernel.variant = variant
        Precision.inference = precision
        let model = try loadedModel(dropout: 0.1, f)
        model.eval()
        let fused = try noGrad { try model(continuous: c, binary: b, userEmbedding: ue, userEngEmbedding: uee, authorEmbedding: ae) }
        if precision == .fp32 {
          let opByOp = try model(continuous: c, binary: b, userEmbedding: ue, userEngEmbedding: uee, authorEmbedding: ae)
          assertClose(fused.logits, opByOp.logits.detached(), rtol: 1e-5, atol: 1e-5, "\(variant) fused vs op by op")
          assertClose(fused.logits, try f.tensor("eval.logits"), rtol: 1e-5, atol: 1e-5, "\(variant) fused vs PyTorch")
        } else {
          assertClose(fused.probabilities, try f.tensor("eval.probabilities"), rtol: 0, atol: 1e-2, "\(variant) bf16 vs PyTorch fp32")
        }
      }
    }
  }

  /// One NaN weight in the backbone makes every prediction NaN, as in PyTorch, on the BLAS
  /// and the packed-kernel inference paths (a ReLU that mapped NaN to 0 made them one constant).
  func testANaNWeightMakesEveryPredictionNaNNotAConstant() throws {
    let f = try fixture()
    let (c, b, ue, uee, ae) = try inputs(f)
    var paths = [(GEMMKernel.isEnabled, GEMMKernel.minimumRowsForPacking)]
    if GEMMKernel.isSupported { paths.append((true, 1)) }
    let saved = (GEMMKernel.isEnabled, GEMMKernel.minimumRowsForPacking)
    defer { (GEMMKernel.isEnabled, GEMMKernel.minimumRowsForPacking) = saved }
    for (enabled, minimumRows) in paths {
      (GEMMKernel.isEnabled, GEMMKernel.minimumRowsForPacking) = (enabled, minimumRows)
      let model = try loadedModel(dropout: 0.1, f)
      model.eval()
      let weight = try XCTUnwrap(model.namedParameters().first { $0.0 == "_backbone._mask_blocks.0._hidden_layer.weight" }?.1)
      weight.value.withUnsafeMutableBufferPointer { $0[37] = .nan }
      let out = try noGrad { try model(continuous: c, binary: b, userEmbedding: ue, userEngEmbedding: uee, authorEmbedding: ae) }
      XCTAssertTrue(out.logits.scalars.allSatisfy(\.isNaN), "packed kernel \(enabled && minimumRows == 1): \(out.logits)")
      XCTAssertTrue(out.calibratedProbabilities.scalars.allSatisfy(\.isNaN))
    }
  }

  func testTrainStepLossAndGradientsMatchPyTorch() throws {
    try checkTrainStep()
  }

  /// The fixture's batch (12 rows) is below `GEMMKernel.minimumRowsForPacking`, so the
  /// default run multiplies with BLAS; this one sends every GEMM through our kernel.
  func testTrainStepMatchesPyTorchWithEveryGEMMInTheAVX512Kernel() throws {
    try checkTrainStep(everyGEMMIn: .avx512)
  }

  func testTrainStepMatchesPyTorchWithEveryGEMMInTheAVX2Kernel() throws {
    try checkTrainStep(everyGEMMIn: .avx2)
  }

  func checkTrainStep(everyGEMMIn kernel: GEMMKernel.Variant) throws {
    try XCTSkipUnless(kernel.isSupported, "this CPU cannot run the \(kernel) kernel")
    let saved = (GEMMKernel.variant, GEMMKernel.minimumRowsForPacking)
    GEMMKernel.variant = kernel
    GEMMKernel.minimumRowsForPacking = 1
    defer { (GEMMKernel.variant, GEMMKernel.minimumRowsForPacking) = saved }
    try checkTrainStep()
  }

  func checkTrainStep() throws {
    let f = try fixture()
    let model = try loadedModel(dropout: 0, f)
    model.train()
    let (c, b, ue, uee, ae) = try inputs(f)
    let out = try model(continuous: c, binary: b, userEmbedding: ue, userEngEmbedding: uee, authorEmbedding: ae)
    assertClose(out.logits, try f.tensor("train.logits"), rtol: 1e-5, atol: 1e-5, "train logits")
    let loss = MultiTaskLoss(taskNames: Self.tasks, posWeights: (try f.tensor("input.pos_weight")).scalars)
    let value = try loss(out.logits, labels: try f.tensor("input.labels"), weights: try f.tensor("input.weights"))
    assertClose(value.total, try f.tensor("train.loss"), rtol: 1e-5, atol: 1e-6, "loss")
    for (t, name) in Self.tasks.enumerated() {
      assertClose(Tensor(scalar: value.perTask[t]), try f.tensor("train.loss.\(name)"), rtol: 1e-5, atol: 1e-6, "loss \(name)")
    }
    try value.total.backward()
    var checked = 0
    for (name, p) in model.namedParameters() {
      guard let g = p.grad else { XCTFail("no gradient for \(name)"); continue }
      assertClose(g, try f.tensor("grad.\(name)"), rtol: 1e-4, atol: 1e-6, "grad \(name)")
      checked += 1
    }
    XCTAssertEqual(checked, f.names.filter { $0.hasPrefix("grad.") }.count)
    for (name, buf) in model.namedBuffers() where name.contains("running") {
      assertClose(buf.value, try f.tensor("after.\(name)"), rtol: 1e-5, atol: 1e-6, "buffer \(name)")
    }
  }
}
