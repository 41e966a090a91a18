/// Why a TwHIN operation could not run: bad input (an id outside its table, an unknown
/// relation, mismatched array lengths), an inconsistent schema, or an I/O failure.
/// Each message names the offending id, relation or table and says what to do.
///
///     do { try model.validate(batch) } catch let e as TwHINError { print(e) }
public struct TwHINError: Error, CustomStringConvertible, Equatable, Sendable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
