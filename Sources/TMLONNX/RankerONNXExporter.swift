import Foundation
import Recap
import SwiftProtobuf
import TMLIO
import TMLNN

/// The Heavy Ranker (`MultiTaskRankingModel`) as an ONNX model for onnxruntime — the
/// eval-mode forward pass (running BatchNorm statistics, no dropout), opset 17:
///
///     inputs   continuous [batch, C] f32, binary [batch, D] f32,
///              user_embedding / user_eng_embedding / author_embedding [batch, E] f32   (those the model uses),
///              discrete [batch, K] int64                                               (with position debiasing)
///     h        = Concat(DoubleNormLog(continuous, binary), LN(embeddings)…, position embedding?)
///     net      = share_all: backbone(h) | share_partial: Concat(h, backbone(h)) | share_none: h
///     logits   [batch, T] = Concat_t(affine_t(tower_t(net)))
///     probabilities [batch, T] = Sigmoid(logits)
///     calibrated    [batch, T] = p·r_t / ((1 − p) + p·r_t)
///
/// `batch` is a symbolic dimension; column t is task t of `taskNames` (also in the
/// model's `metadata_props["tasks"]`, comma-separated). Initializers carry the original's
/// `state_dict` names (`_backbone._mask_blocks.0._hidden_layer.weight`, …).
///
///     let onnx = try RankerONNXExporter.export(model)
///     try RankerONNXExporter.write(onnx, to: "model.onnx")
public enum RankerONNXExporter {
  public static let batchDimension = "batch"
  public static let outputNames = ["logits", "probabilities", "calibrated"]
  /// The embedding inputs, in the order the model concatenates them.
  public static let embeddingInputs = ["user_embedding", "user_eng_embedding", "author_embedding"]

  /// The ONNX model of `model`'s eval forward. `discreteFeatures` is the width K of the
  /// `discrete` input a position-debiasing model reads; nil when the data has no discrete
  /// features (every example then uses the "unknown" position, as `tml recap predict` does).
  public static func export(_ model: MultiTaskRankingModel, discreteFeatures: Int? = nil) throws -> Onnx_ModelProto {
    let spec = model.spec
    let g = ONNXGraphBuilder(name: "recap_multi_task_ranking_model")
    let batch = ONNXGraphBuilder.Dimension.symbolic(batchDimension)
    let continuous = g.input("continuous", shape: [batch, .fixed(spec.continuousFeatures)],
                             doc: "the continuous segdense group after truncation/masks (renamed_features.continuous)")
    let binary = g.input("binary", shape: [batch, .fixed(spec.binaryFeatures)],
                         doc: "the binary segdense group as 0/1 floats (renamed_features.binary)")
    var parts = [g.doubleNormLog(continuous: continuous, binary: binary, model.preprocessor, prefix: "_preprocessor")]
    let norms = [(model.userEmbeddingNorm, "_user_embedding_layer_norm"), (model.userEngEmbeddingNorm, "_user_eng_embedding_layer_norm"),
                 (model.authorEmbeddingNorm, "_author_embedding_layer_norm")]
    for ((norm, prefix), name) in zip(norms, embeddingInputs) {
      guard let norm else { continue }
      let x = g.input(name, shape: [batch, .fixed(norm.dim)], doc: "renamed_features.\(name)")
      parts.append(g.layerNorm(x, norm, prefix: prefix))
    }
    if let pd = model.positionDebias {
      var discrete: String? = nil
      if let k = discreteFeatures {
        guard pd.featureIndex < k else {
          throw ONNXExportError("ONNX export: position_debias_config.position_feature_index \(pd.featureIndex) is outside the \(k) discrete features of the schema (renamed_features.discrete); use an index below \(k)")
        }
        discrete = g.input("discrete", elementType: ONNXTensorEncoding.int64, shape: [batch, .fixed(k)], doc: "renamed_features.discrete")
      }
      parts.append(g.positionDebias(discrete: discrete, batchOf: continuous, pd, prefix: "position_debias_model"))
    }
    let h = parts.count == 1 ? parts[0] : g.node("Concat", parts, named: "model_input", attributes: [.int("axis", 1)])
    let net: String
    switch (spec.multiTaskType, model.backbone) {
    case (.shareAll, let b?): net = try g.rankingBlock(h, b, prefix: "_backbone")
    case (.sharePartial, let b?):
      net = g.node("Concat", [h, try g.rankingBlock(h, b, prefix: "_backbone")], named: "shared_partial", attributes: [.int("axis", 1)])
    case (.shareNone, _): net = h
    default: throw ONNXExportError("ONNX export: multi_task_type \(spec.multiTaskType.rawValue) needs a backbone and the model has none")
    }
    var logits: [String] = []
    var calibrated: [String] = []
    for (t, name) in model.taskNames.enumerated() {
      let task = MultiTaskRankingModel.sanitize(name)
      var z = try g.rankingBlock(net, model.towers[t], prefix: "_towers.\(task)")
      if let a = model.affineMaps[t] { z = g.linear(z, a.linear, prefix: "_affine_maps.\(task)") }
      logits.append(z)
      let p = g.node("Sigmoid", [z], named: "_towers.\(task)/probability")
      calibrated.append(g.calibration(p, model.calibrators[t], prefix: "_calibrators.\(task)"))
    }
    let tasks = model.taskNames.count
    let z = logits.count == 1 ? logits[0] : g.node("Concat", logits, named: "logits_by_task", attributes: [.int("axis", 1)])
    let p = g.node("Sigmoid", [z], named: "probabilities_by_task")
    let c = calibrated.count == 1 ? calibrated[0] : g.node("Concat", calibrated, named: "calibrated_by_task", attributes: [.int("axis", 1)])
    let columns = "columns: " + model.taskNames.joined(separator: ", ")
    g.output(z, as: "logits", shape: [batch, .fixed(tasks)], doc: "per-task logits; \(columns)")
    g.output(p, as: "probabilities", shape: [batch, .fixed(tasks)], doc: "σ(logits); \(columns)")
    g.output(c, as: "calibrated", shape: [batch, .fixed(tasks)], doc: "calibrated probabilities; \(columns)")
    return g.model(producer: "SwiftTML", version: "1", doc: "Twitter's Heavy Ranker (MultiTaskRankingModel), eval mode, exported by tml recap export-onnx",
                   metadata: [("tasks", model.taskNames.joined(separator: ",")), ("multi_task_type", spec.multiTaskType.rawValue)])
  }

  /// Writes `model` in the protobuf wire format (the `.onnx` file).
  public static func write(_ model: Onnx_ModelProto, to path: String) throws {
    let bytes: [UInt8] = try model.serializedBytes()
    let out = try FileWriter(path: path)
    try out.write(bytes)
    try out.close()
  }
}
