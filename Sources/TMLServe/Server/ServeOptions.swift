import Recap

/// The settings of `tml serve` (`docs/serving.md`):
///
/// - `maxBatch`: most rows (candidates) in one forward pass; concurrent requests are
///   concatenated up to it, a larger request is scored in several passes.
/// - `maxWaitMicroseconds`: how long the oldest queued request may wait for others to
///   join its pass before the pass starts anyway.
/// - `maxCandidates`: most candidates in one request (more is a 413).
/// - `maxBodyBytes`: largest request body (more is a 413).
/// - `maxNeighbors`: largest k of `/v1/neighbors` and of the feed's TwHIN retrieval.
/// - `weights`: the engagement-score weights (Twitter's published ones by default);
///   a request's `weights` member overrides single heads.
///
///     var options = ServeOptions(); options.port = 0; options.maxBatch = 256; try options.check()
public struct ServeOptions: Sendable {
  public var host = "127.0.0.1"
  public var port = 8080
  public var maxBatch = 512
  public var maxWaitMicroseconds = 1000
  public var maxCandidates = 1000
  public var maxBodyBytes = 64 << 20
  public var maxNeighbors = 10_000
  public var weights = EngagementScore()

  public init() {}

  /// Refuses settings that cannot work, naming the flag.
  public func check() throws {
    for (flag, value, least) in [("--port", port, 0), ("--max-batch", maxBatch, 1), ("--max-wait-us", maxWaitMicroseconds, 0),
                                 ("--max-candidates", maxCandidates, 1), ("--max-body-bytes", maxBodyBytes, 1), ("max neighbours", maxNeighbors, 1)]
    where value < least {
      throw ServeError(400, "\(flag) must be at least \(least), got \(value)")
    }
    guard port <= 65535 else { throw ServeError(400, "--port must be at most 65535, got \(port)") }
  }
}
