import Foundation
import SwiftProtobuf

/// Convenience builders over the swift-protobuf `tf.Example` types.
///
///     let ex = Tensorflow_Example(features: ["x": .floats([1, 2]), "y": .int64s([1])])
///     let bytes = try ex.serializedBytes() as [UInt8]
extension Tensorflow_Feature {
  public static func floats(_ v: [Float]) -> Tensorflow_Feature {
    var f = Tensorflow_Feature()
    f.floatList.value = v
    return f
  }

  public static func int64s(_ v: [Int64]) -> Tensorflow_Feature {
    var f = Tensorflow_Feature()
    f.int64List.value = v
    return f
  }

  public static func bytes(_ v: [Data]) -> Tensorflow_Feature {
    var f = Tensorflow_Feature()
    f.bytesList.value = v
    return f
  }
}

extension Tensorflow_Example {
  public init(features: [String: Tensorflow_Feature]) {
    self.init()
    self.features.feature = features
  }

  /// Decodes a serialized record, with the error naming where it came from.
  public static func decode(_ bytes: [UInt8], origin: String) throws -> Tensorflow_Example {
    do { return try Tensorflow_Example(serializedBytes: bytes) } catch {
      throw DataError("\(origin): not a valid tf.Example (\(error))")
    }
  }
}
