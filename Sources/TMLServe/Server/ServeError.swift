/// An error answered to the client: an HTTP status and a one-line message that names
/// what is wrong (the JSON path, feature, byte offset or limit) and what to do. The
/// body is `{"error": {"status": <code>, "message": "<message>"}}`.
///
///     throw ServeError.badRequest("candidates[3].features: unknown feature \"foo\"")
public struct ServeError: Error, CustomStringConvertible, Sendable {
  public let status: Int
  public let message: String

  public init(_ status: Int, _ message: String) {
    self.status = status
    self.message = message
  }

  public var description: String { "\(status): \(message)" }

  public static func badRequest(_ message: String) -> ServeError { ServeError(400, message) }
  public static func tooLarge(_ message: String) -> ServeError { ServeError(413, message) }
  public static func unavailable(_ message: String) -> ServeError { ServeError(503, message) }
  public static func notFound(_ message: String) -> ServeError { ServeError(404, message) }

  /// The JSON body of the error reply.
  public var json: String {
    var w = JSONWriter()
    w.object { o in
      o.key("error")
      o.object { e in
        e.key("status"); e.int(status)
        e.key("message"); e.string(message)
      }
    }
    return w.text
  }
}
