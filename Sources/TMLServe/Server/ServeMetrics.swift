import Foundation
import Prometheus

/// The server's Prometheus metrics (one registry per server, text exposition at
/// `GET /metrics`):
///
/// | metric | type | labels |
/// |---|---|---|
/// | `tml_http_requests_total` | counter | `route`, `status` |
/// | `tml_http_request_duration_seconds` | histogram | `route` |
/// | `tml_rank_batch_rows` | histogram | — (rows per forward pass) |
/// | `tml_rank_pass_duration_seconds` | histogram | — (one forward pass) |
/// | `tml_rank_candidates_total` | counter | — |
/// | `tml_model_info` | gauge (1 = serving) | `model`, `version` |
/// | `tml_model_reloads_total` | counter | `model` |
///
/// `route` is the route's path for the server's routes and `unmatched` for anything else,
/// so arbitrary URLs cannot grow the label set.
///
///     metrics.recordRequest(route: "/v1/rank", status: 200, seconds: 0.012); print(metrics.exposition())
public final class ServeMetrics: Sendable {
  public let registry = PrometheusCollectorRegistry()
  let routes: Set<String>
  private let batchRows: ValueHistogram
  private let passDuration: DurationHistogram
  private let candidates: Counter

  static let latencyBuckets: [Duration] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].map {
    .nanoseconds(Int64($0 * 1e9))
  }

  public init(routes: [String]) {
    self.routes = Set(routes)
    batchRows = registry.makeValueHistogram(
      descriptor: MetricNameDescriptor(namespace: "tml", metricName: "rank_batch", unitName: "rows", helpText: "Rows (candidates) per forward pass."),
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192])
    passDuration = registry.makeDurationHistogram(
      descriptor: MetricNameDescriptor(namespace: "tml", metricName: "rank_pass_duration", unitName: "seconds", helpText: "Duration of one forward pass."),
      buckets: ServeMetrics.latencyBuckets)
    candidates = registry.makeCounter(
      descriptor: MetricNameDescriptor(namespace: "tml", metricName: "rank_candidates", unitName: "total", helpText: "Candidates scored."))
  }

  /// The `route` label of a request path.
  public func routeLabel(_ path: String) -> String { routes.contains(path) ? path : "unmatched" }

  public func recordRequest(route: String, status: Int, seconds: Double) {
    registry.makeCounter(
      descriptor: MetricNameDescriptor(namespace: "tml", metricName: "http_requests", unitName: "total", helpText: "HTTP requests by route and status."),
      labels: [("route", route), ("status", String(status))]
    ).increment()
    registry.makeDurationHistogram(
      descriptor: MetricNameDescriptor(namespace: "tml", metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request latency by route."),
      labels: [("route", route)], buckets: ServeMetrics.latencyBuckets
    ).record(.nanoseconds(Int64(seconds * 1e9)))
  }

  public func recordPass(rows: Int, seconds: Double) {
    batchRows.record(Double(rows))
    passDuration.record(.nanoseconds(Int64(seconds * 1e9)))
    candidates.increment(by: Int64(rows))
  }

  /// Marks `version` of `model` as serving (1) and its predecessor as retired (0).
  public func modelLoaded(_ model: String, version: String, previous: String?) {
    let descriptor = MetricNameDescriptor(namespace: "tml", metricName: "model", unitName: "info", helpText: "1 for the model version serving, 0 for versions replaced.")
    if let previous {
      registry.makeGauge(descriptor: descriptor, labels: [("model", model), ("version", previous)]).set(to: 0.0)
      registry.makeCounter(
        descriptor: MetricNameDescriptor(namespace: "tml", metricName: "model_reloads", unitName: "total", helpText: "Successful model reloads."),
        labels: [("model", model)]
      ).increment()
    }
    registry.makeGauge(descriptor: descriptor, labels: [("model", model), ("version", version)]).set(to: 1.0)
  }

  /// The text exposition format.
  public func exposition() -> String { registry.emitToString() }
}
