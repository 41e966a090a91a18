import Foundation
import Hummingbird
import Logging
import NIOCore

/// `tml serve`: the HTTP/1.1 server (Hummingbird 2) over a `ServeCore`.
///
/// | route | does |
/// |---|---|
/// | `POST /v1/rank` | score and sort candidates (`ServeCore.rank`) |
/// | `POST /v1/neighbors` | TwHIN k nearest rhs (`ServeCore.neighbors`) |
/// | `POST /v1/feed` | TwHIN retrieval + ranking (`ServeCore.feed`) |
/// | `GET /healthz` | 200 while the process serves |
/// | `GET /readyz` | 200 once every configured model is loaded, else 503 |
/// | `GET /metrics` | Prometheus text exposition (`ServeMetrics`) |
/// | `POST /admin/reload` | swap in new checkpoints (`ServeCore.reload`) |
///
/// Every error is a JSON `{"error": {"status", "message"}}` with its status; bodies over
/// `maxBodyBytes` are 413; unknown routes 404. The `onRunning` callback gets the bound
/// port (port 0 binds an ephemeral one).
///
///     try await ServeServer(core: ServeCore(options: options, store: store)).run { port in print("listening on \(port)") }
public struct ServeServer: Sendable {
  public let core: ServeCore
  public var logger: Logger

  public init(core: ServeCore, logger: Logger = Logger(label: "tml-serve")) {
    self.core = core
    self.logger = logger
  }

  /// The router with every route and the error/metrics middleware.
  public func router() -> Router<BasicRequestContext> {
    let router = Router()
    let core = self.core
    router.add(middleware: ServeMiddleware(metrics: core.metrics, maxBodyBytes: core.options.maxBodyBytes))
    let limit = core.options.maxBodyBytes
    @Sendable func body(_ request: Request) async throws -> [UInt8] {
      let buffer = try await request.body.collect(upTo: limit)
      return Array(buffer.readableBytesView)
    }
    router.get("/healthz") { _, _ in ServeServer.json(core.health()) }
    router.get("/readyz") { _, _ in ServeServer.json(try core.ready()) }
    router.get("/metrics") { _, _ in
      Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
               body: .init(byteBuffer: ByteBuffer(string: core.metrics.exposition())))
    }
    router.post("/v1/rank") { request, _ in
      var query: [String: String] = [:]
      for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
      return ServeServer.json(try await core.rank(try await body(request), contentType: request.headers[.contentType], query: query))
    }
    router.post("/v1/neighbors") { request, _ in ServeServer.json(try await core.neighbors(try await body(request))) }
    router.post("/v1/feed") { request, _ in ServeServer.json(try await core.feed(try await body(request))) }
    router.post("/admin/reload") { request, _ in ServeServer.json(try await core.reload(try await body(request))) }
    return router
  }

  static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
  }

  /// The Hummingbird application on `host:port`; `onRunning` gets the bound port.
  public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    Application(
      router: router(),
      configuration: .init(address: .hostname(core.options.host, port: core.options.port), serverName: "tml-serve"),
      onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
      logger: logger)
  }

  /// Serves until SIGINT/SIGTERM (graceful: requests in flight finish), then stops the batcher.
  public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
    defer { core.shutdown() }
    try await application(onRunning: onRunning).runService()
  }
}

/// Turns every error into a JSON reply with its status (`ServeError`, Hummingbird's own —
/// 404, 413 —, anything else 500) and records each request's route, status and latency.
struct ServeMiddleware<Context: RequestContext>: RouterMiddleware {
  let metrics: ServeMetrics
  let maxBodyBytes: Int

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
    let start = DispatchTime.now().uptimeNanoseconds
    let route = metrics.routeLabel(request.uri.path)
    var response: Response
    do {
      response = try await next(request, context)
    } catch let e as ServeError {
      response = ServeServer.json(e.json, status: .init(code: e.status))
    } catch let e as any HTTPResponseError {
      let message: String
      switch e.status.code {
      case 404: message = "no route \(request.method) \(request.uri.path); routes: \(ServeCore.routes.joined(separator: ", "))"
      case 413: message = "request body larger than the server's limit of \(maxBodyBytes) bytes (--max-body-bytes); send fewer candidates per request"
      default: message = "\(e.status.reasonPhrase)"
      }
      let error = ServeError(e.status.code, message)
      response = ServeServer.json(error.json, status: e.status)
    } catch {
      response = ServeServer.json(ServeError(500, "internal error: \(error)").json, status: .internalServerError)
    }
    metrics.recordRequest(route: route, status: response.status.code,
                          seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    return response
  }
}
