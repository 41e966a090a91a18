import Dispatch
import Foundation
import Recap
import TMLTensor

/// What the routes do, without HTTP: each takes a request body and returns the reply's
/// JSON text or throws a `ServeError` (status and message). `ServeServer` maps routes to
/// these; tests and benchmarks can call them directly.
///
///     let reply = try await ServeCore(options: ServeOptions(), store: store).rank(Array(#"{"candidates": []}"#.utf8))
public final class ServeCore: Sendable {
  public let options: ServeOptions
  public let store: ModelStore
  public let metrics: ServeMetrics
  public let batcher: RankBatcher
  /// Neighbour scans run here one at a time, off the cooperative thread pool.
  let twhinQueue = DispatchQueue(label: "tml-serve-twhin")
  let started = Date()

  public static let routes = ["/healthz", "/readyz", "/metrics", "/v1/rank", "/v1/neighbors", "/v1/feed", "/admin/reload"]

  public init(options: ServeOptions, store: ModelStore) {
    self.options = options
    self.store = store
    let metrics = ServeMetrics(routes: ServeCore.routes)
    self.metrics = metrics
    batcher = RankBatcher(maxBatch: options.maxBatch, maxWaitMicroseconds: options.maxWaitMicroseconds,
                          currentRanker: { store.ranker }, onPass: { metrics.recordPass(rows: $0, seconds: $1) })
    store.onLoaded = { metrics.modelLoaded($0, version: $1, previous: $2) }
    for (name, model) in [("ranker", store.ranker?.version), ("twhin", store.twhin?.version)] {
      if let model { metrics.modelLoaded(name, version: model, previous: nil) }
    }
  }

  /// Stops the batcher; queued requests fail with 503.
  public func shutdown() { batcher.stop() }

  static func parse(_ body: [UInt8]) throws -> JSONValue {
    do { return try JSONReader.parse(body) } catch let e as JSONParseError { throw ServeError.badRequest(e.description) }
  }

  /// The ranker, or 503 while it loads (409 when the server has none).
  func requireRanker() throws -> LoadedRanker {
    if let r = store.ranker { return r }
    switch store.rankerState {
    case .absent: throw ServeError(409, "this server has no ranker; start tml serve with --ranker and --ranker-config")
    case .failed(let e): throw ServeError.unavailable("the ranker failed to load: \(e)")
    default: throw ServeError.unavailable("the ranker is still loading; retry when /readyz answers 200")
    }
  }

  /// The TwHIN model, or 503 while it loads (409 when the server has none).
  func requireTwHIN() throws -> LoadedTwHIN {
    if let t = store.twhin { return t }
    switch store.twhinState {
    case .absent: throw ServeError(409, "this server has no TwHIN model; start tml serve with --twhin and --twhin-config")
    case .failed(let e): throw ServeError.unavailable("the TwHIN model failed to load: \(e)")
    default: throw ServeError.unavailable("the TwHIN model is still loading; retry when /readyz answers 200")
    }
  }

  // MARK: /v1/rank

  /// `POST /v1/rank` (`RankRequest` → candidates sorted by score). A body of
  /// `contentType` `application/x-tfexample-delimited` is read as `DelimitedExamples`;
  /// the query may set `top`.
  public func rank(_ body: [UInt8], contentType: String? = nil, query: [String: String] = [:]) async throws -> String {
    let ranker = try requireRanker()
    let unknown = query.keys.filter { $0 != "top" }.sorted()
    guard unknown.isEmpty else { throw ServeError.badRequest("query: unknown parameter\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")); /v1/rank takes top") }
    var request: RankRequest
    if let contentType, contentType.lowercased().hasPrefix(DelimitedExamples.contentType) {
      let records = try DelimitedExamples.split(body, maxCandidates: options.maxCandidates)
      request = RankRequest(candidates: records.enumerated().map { .init(id: .number(Double($0), Int64($0)), record: $1) }, weights: [:], top: nil)
    } else {
      request = try RankRequest.decode(try ServeCore.parse(body), encoder: ranker.encoder, maxCandidates: options.maxCandidates)
    }
    if let top = query["top"] {
      guard let k = Int(top), k >= 0 else { throw ServeError.badRequest("query: top=\(top) is not a non-negative integer") }
      request.top = k
    }
    let weights = try RankedList.weights(options.weights, overrides: request.weights, heads: ranker.taskNames)
    let result = try await batcher.score(request.candidates.map(\.record))
    let list = try RankedList(result, ids: request.candidates.map(\.id), weights: weights)
    var w = JSONWriter()
    w.object { o in
      writeModel(result.ranker, to: &o)
      o.key("heads"); o.array { a in for h in list.heads { a.string(h) } }
      o.key("missing_heads"); o.array { a in for h in list.missingHeads { a.string(h) } }
      o.key("count"); o.int(list.entries.count)
      o.key("candidates")
      o.array { a in for e in list.entries.prefix(request.top ?? Int.max) { list.write(e, to: &a) } }
    }
    return w.text
  }

  func writeModel(_ ranker: LoadedRanker, to o: inout JSONWriter) {
    o.key("model")
    o.object { m in
      m.key("version"); m.string(ranker.version)
      m.key("checkpoint"); m.string(ranker.checkpoint)
      m.key("step"); m.int(ranker.step)
      m.key("precision"); m.string(Precision.inference.rawValue)
    }
  }

  /// Runs `body` on the TwHIN queue.
  func onTwHINQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
      twhinQueue.async { c.resume(with: Swift.Result { try body() }) }
    }
  }

  // MARK: /healthz, /readyz, /metrics

  public func health() -> String {
    var w = JSONWriter()
    w.object { o in
      o.key("status"); o.string("ok")
      o.key("uptime_seconds"); o.double((Date().timeIntervalSince(started) * 1000).rounded() / 1000)
      writeStates(to: &o)
    }
    return w.text
  }

  /// `GET /readyz`: 200 when every configured model is loaded, else 503 with the states.
  public func ready() throws -> String {
    var w = JSONWriter()
    w.object { o in
      o.key("ready"); o.bool(store.isReady)
      writeStates(to: &o)
    }
    guard store.isReady else { throw ServeError(503, "not ready: \(w.text)") }
    return w.text
  }

  private func writeStates(to o: inout JSONWriter) {
    for (name, state, version) in [("ranker", store.rankerState, store.ranker?.version), ("twhin", store.twhinState, store.twhin?.version)] {
      o.key(name)
      o.object { m in
        m.key("state")
        switch state {
        case .absent: m.string("absent")
        case .loading: m.string("loading")
        case .ready: m.string("ready")
        case .failed(let e): m.string("failed: \(e)")
        }
        if let version { m.key("version"); m.string(version) }
      }
    }
  }

  // MARK: /admin/reload

  /// `POST /admin/reload`: `{}` (or an empty body) reloads every model from its source;
  /// `{"ranker": "<checkpoint>"}` / `{"twhin": "<checkpoint>"}` reload one from a new
  /// checkpoint. The load runs on its own thread while requests keep being served.
  public func reload(_ body: [UInt8]) async throws -> String {
    var ranker: String? = nil, twhin: String? = nil
    var which: (ranker: Bool, twhin: Bool) = (store.rankerState != .absent, store.twhinState != .absent)
    if !body.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) {
      let json = try ServeCore.parse(body)
      guard case .object(let members) = json else { throw ServeError.badRequest("body: expected an object {\"ranker\"?: path, \"twhin\"?: path}, got \(json.kind)") }
      try RankRequest.checkMembers(members, allowed: ["ranker", "twhin"], path: "body")
      func path(_ name: String) throws -> String? {
        guard let v = json[name] else { return nil }
        guard case .string(let s) = v else { throw ServeError.badRequest("\(name): expected a checkpoint path (string), got \(v.kind)") }
        return s
      }
      ranker = try path("ranker")
      twhin = try path("twhin")
      if ranker != nil || twhin != nil { which = (ranker != nil, twhin != nil) }
    }
    let store = self.store
    let (r, t, reloadRanker, reloadTwHIN) = (ranker, twhin, which.ranker, which.twhin)
    let versions: [String: String] = try await withCheckedThrowingContinuation { c in
      let thread = Thread {
        c.resume(with: Swift.Result { try store.reload(rankerCheckpoint: r, twhinCheckpoint: t, reloadRanker: reloadRanker, reloadTwHIN: reloadTwHIN) })
      }
      thread.name = "tml-serve-reload"
      thread.start()
    }
    var w = JSONWriter()
    w.object { o in
      o.key("reloaded")
      o.object { m in for (k, v) in versions.sorted(by: { $0.key < $1.key }) { m.key(k); m.string(v) } }
    }
    return w.text
  }
}
