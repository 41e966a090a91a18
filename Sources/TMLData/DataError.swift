/// An error reading or writing data, naming the file and where in it.
public struct DataError: Error, CustomStringConvertible, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
