/// Errors raised by tensor operations. Each message names the operation, the
/// shapes or values involved, and what to do about it.
public struct TensorError: Error, CustomStringConvertible, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }

  static func shape(_ op: String, _ detail: String) -> TensorError {
    TensorError("\(op): \(detail)")
  }
}

/// Formats a shape the way PyTorch prints it: `[4, 5]`.
@inlinable public func describe(shape: [Int]) -> String {
  "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
