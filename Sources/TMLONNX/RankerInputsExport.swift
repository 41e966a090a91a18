import Foundation
import Recap
import TMLData
import TMLNN
import TMLTensor

/// The ranker's input tensors for a set of examples, under the ONNX graph's input names,
/// so a Python script can feed onnxruntime without parsing tf.Examples:
///
///     continuous [N, C] f32, binary [N, D] f32, user_embedding / user_eng_embedding /
///     author_embedding [N, E] f32, discrete [N, K] i64   (the groups the data has)
///     meta__<name> [N] i64                               (the config's meta__ ids)
///
/// Rows are in `tml recap predict`'s order (files in order, no shuffling), so row i
/// matches predict's line i. Written as `.npz` (`np.load`; `NpzWriter`) or `.safetensors`
/// (by the path's extension).
public enum RankerInputsExport {
  /// Reads every example of the files matching `inputGlob` through `run`'s train-data
  /// pipeline (features, truncation and masks as the config says) and writes them to
  /// `path` (`.npz` or `.safetensors`). Returns the rows written.
  @discardableResult
  public static func write(run: RecapRun, inputGlob: String, to path: String) throws -> Int {
    var data = run.trainData
    data.inputs = inputGlob
    data.datedInputs = nil
    let pipe = try run.pipeline(data, epochs: 1, shuffle: false)
    var floats: [String: (width: Int, values: [Float])] = [:]
    var ints: [String: (width: Int, values: [Int64])] = [:]
    var rows = 0
    func add(_ name: String, _ t: Tensor?) {
      guard let t else { return }
      floats[name, default: (t.shape.last ?? 0, [])].values += t.scalars
    }
    while let batch = try pipe.next() {
      add("continuous", batch.continuous)
      add("binary", batch.binary)
      add("user_embedding", batch.userEmbedding)
      add("user_eng_embedding", batch.userEngEmbedding)
      add("author_embedding", batch.authorEmbedding)
      if let d = batch.discrete { ints["discrete", default: (d.shape.last ?? 0, [])].values += d.values.map(Int64.init) }
      for (name, ids) in batch.meta where name.hasPrefix("meta__") { ints[name, default: (0, [])].values += ids }
      rows += batch.size
    }
    guard rows > 0 else { throw ONNXExportError("\(inputGlob): no examples to export") }
    let float = floats.sorted { $0.key < $1.key }, int = ints.sorted { $0.key < $1.key }
    func shape(_ width: Int) -> [Int] { width == 0 ? [rows] : [rows, width] }
    if path.hasSuffix(".npz") {
      var npz = NpzWriter()
      for (name, v) in float { npz.add(name, floats: v.values, shape: shape(v.width)) }
      for (name, v) in int { npz.add(name, int64s: v.values, shape: shape(v.width)) }
      try npz.write(to: path)
    } else if path.hasSuffix(".safetensors") {
      var writer = SafetensorsWriter(metadata: ["format": "tml recap export-inputs", "rows": "\(rows)"])
      for (name, v) in float { writer.add(name, try Tensor(shape: shape(v.width), scalars: v.values)) }
      for (name, v) in int { writer.add(name, try IndexTensor(shape: shape(v.width), values: v.values.map { Int($0) }), dtype: .i64) }
      try writer.write(to: URL(fileURLWithPath: path))
    } else {
      throw ONNXExportError("\(path): name the output *.npz (numpy's np.load) or *.safetensors")
    }
    return rows
  }
}
