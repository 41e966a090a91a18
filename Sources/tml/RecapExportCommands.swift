import ArgumentParser
import Foundation
import Recap
import TMLONNX

extension RecapCommand {
  /// `tml recap export-onnx`: a checkpoint as an ONNX model (docs/onnx.md).
  struct ExportONNX: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export-onnx",
      abstract: "Write a checkpoint's eval-mode model as ONNX (opset 17, dynamic batch) for onnxruntime. See docs/onnx.md.")
    @OptionGroup var common: Common
    @Option(help: "A step_<N> checkpoint directory, or a save dir (newest step).") var checkpoint: String
    @Option(help: "Output file (model.onnx).") var out: String

    func run() throws {
      let run = try common.run()
      try run.communicator.requireSingleProcess("tml recap export-onnx")
      let (model, step) = try run.loadModel(checkpoint: URL(fileURLWithPath: checkpoint))
      let discrete = run.trainData.segDenseSchema.renamedFeatures["discrete"].flatMap { run.schema[$0]?.length }
      let onnx = try RankerONNXExporter.export(model, discreteFeatures: discrete)
      try RankerONNXExporter.write(onnx, to: out)
      let inputs = onnx.graph.input.map(\.name).joined(separator: ", ")
      print("wrote \(out) (step \(step), \(onnx.graph.node.count) nodes, \(onnx.graph.initializer.count) initializers, opset \(ONNXGraphBuilder.opsetVersion))")
      print("inputs: \(inputs); outputs: \(RankerONNXExporter.outputNames.joined(separator: ", ")) [batch, \(model.taskNames.count)]")
    }
  }

  /// `tml recap export-inputs`: the model's input tensors of some examples as .npz or .safetensors.
  struct ExportInputs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export-inputs",
      abstract: "Write the model's input tensors (continuous, binary, embeddings, discrete, meta ids) of TFRecord examples as .npz or .safetensors, in predict's row order.")
    @OptionGroup var common: Common
    @Option(help: "Glob of TFRecord files.") var input: String
    @Option(help: "Output file (.npz or .safetensors).") var out: String

    func run() throws {
      guard out.hasSuffix(".npz") || out.hasSuffix(".safetensors") else {
        throw ValidationError("--out \(out): export-inputs writes .npz (np.load) or .safetensors; name the file by one of them")
      }
      let run = try common.run()
      try run.communicator.requireSingleProcess("tml recap export-inputs")
      let rows = try RankerInputsExport.write(run: run, inputGlob: input, to: out)
      print("wrote \(rows) examples to \(out)")
    }
  }
}
