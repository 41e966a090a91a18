import Foundation
import TMLTensor

/// ONNX `TensorProto`s from SwiftTML values and back: `data_type` FLOAT (1) or INT64 (7),
/// `dims` the shape (empty for a scalar), the elements little-endian in `raw_data`
/// (4 bytes per float, 8 per int64), row-major, as ONNX's "raw_data" encoding specifies.
public enum ONNXTensorEncoding {
  public static let float: Int32 = 1
  public static let int64: Int32 = 7

  public static func proto(name: String, _ t: Tensor) -> Onnx_TensorProto {
    proto(name: name, floats: t.scalars, shape: t.shape)
  }

  public static func proto(name: String, floats: [Float], shape: [Int]) -> Onnx_TensorProto {
    var p = Onnx_TensorProto()
    p.name = name
    p.dataType = float
    p.dims = shape.map(Int64.init)
    p.rawData = littleEndianBytes(floats.map(\.bitPattern))
    return p
  }

  public static func proto(name: String, int64s: [Int64], shape: [Int]) -> Onnx_TensorProto {
    var p = Onnx_TensorProto()
    p.name = name
    p.dataType = int64
    p.dims = shape.map(Int64.init)
    p.rawData = littleEndianBytes(int64s)
    return p
  }

  /// The values' bytes, least significant first (one copy on a little-endian machine).
  static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> Data {
    if T(1).littleEndian == T(1) { return values.withUnsafeBytes { Data($0) } }
    return values.map(\.littleEndian).withUnsafeBytes { Data($0) }
  }

  /// The float elements of a FLOAT tensor (from `raw_data` or `float_data`).
  public static func floats(_ p: Onnx_TensorProto) throws -> [Float] {
    guard p.dataType == float else { throw ONNXExportError("tensor \(p.name): data_type \(p.dataType) is not FLOAT (1)") }
    if !p.hasRawData { return p.floatData }
    guard p.rawData.count % 4 == 0 else { throw ONNXExportError("tensor \(p.name): raw_data has \(p.rawData.count) bytes, not a multiple of 4") }
    return p.rawData.withUnsafeBytes { raw in
      (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
  }

  /// The elements of an INT64 tensor (from `raw_data` or `int64_data`).
  public static func int64s(_ p: Onnx_TensorProto) throws -> [Int64] {
    guard p.dataType == int64 else { throw ONNXExportError("tensor \(p.name): data_type \(p.dataType) is not INT64 (7)") }
    if !p.hasRawData { return p.int64Data }
    guard p.rawData.count % 8 == 0 else { throw ONNXExportError("tensor \(p.name): raw_data has \(p.rawData.count) bytes, not a multiple of 8") }
    return p.rawData.withUnsafeBytes { raw in
      (0..<(raw.count / 8)).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
    }
  }
}
