/// Why a model could not be exported to ONNX: a layer or setting the exporter has no
/// ONNX form for, named by its state-dict path (e.g. `_towers.recap__engagement__is_favorited`)
/// and type, with what to do. Thrown by `RankerONNXExporter` before anything is written.
public struct ONNXExportError: Error, CustomStringConvertible, Equatable {
  public let description: String
  public init(_ description: String) { self.description = description }
}
