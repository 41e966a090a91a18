import Foundation
import Recap
import TMLData
import TMLNN
import TMLServe
import TMLTensor

/// `tml bench serve`: the production Heavy Ranker (configs/recap/production.yaml, random
/// weights) behind the real `tml serve` server on loopback, loaded by `concurrency`
/// client threads with one keep-alive connection each, every request carrying
/// `candidates` random candidates (default 500).
///
/// Reported per concurrency: p50 and p99 request latency, requests/s, candidates/s and
/// errors (non-200 or failed connections) — beside the pure model: the median eval
/// forward pass on the same `candidates` rows already as tensors (p50 ms, rows/s), which
/// is what the server's overhead is measured against:
///
///     latency ratio   = p50(concurrency 1) / model p50          (goal ≤ 1.2)
///     throughput ratio = candidates/s(concurrency 16) / model rows/s   (goal ≥ 0.9)
public struct ServeBenchmark {
  public enum BodyFormat: String, CaseIterable, Sendable {
    /// `application/x-tfexample-delimited`: length-delimited serialized tf.Examples.
    case delimited
    /// JSON `{"candidates": [{"id", "example": base64}]}`.
    case json
  }

  public struct Level: Sendable {
    public let concurrency: Int
    public let requests: Int
    public let errors: Int
    public let seconds: Double
    /// Successful requests' latencies in seconds, sorted.
    public let latencies: [Double]
    public var p50Milliseconds: Double { percentile(0.5) }
    public var p99Milliseconds: Double { percentile(0.99) }

    /// The p-quantile (nearest rank) of the latencies, in ms.
    public func percentile(_ p: Double) -> Double {
      latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, max(0, Int((p * Double(latencies.count)).rounded(.up)) - 1))] * 1e3
    }
    /// Forward passes the server ran in the level, their mean rows and mean duration.
    public var passes = 0
    public var rowsPerPass = 0.0
    public var passMilliseconds = 0.0
    /// The model alone on the same rows, measured just before and just after this level
    /// (the machine is shared: what else runs changes both alike).
    public var modelMilliseconds = 0.0
    public var requestsPerSecond: Double { Double(requests) / seconds }
  }

  public struct Result: Sendable {
    public let modelP50Milliseconds: Double
    public let modelRowsPerSecond: Double
    public let buildMilliseconds: Double
    /// Reading the request body into records (JSON + base64, or the delimited split).
    public let decodeMilliseconds: Double
    public let bodyBytes: Int
    public let levels: [Level]
  }

  public var configPath = "configs/recap/production.yaml"
  public var candidates = 500
  public var concurrencies = [1, 4, 16]
  public var secondsPerLevel = 15.0
  /// Alternations of the model alone and the loaded server per concurrency.
  public var rounds = 3
  public var format = BodyFormat.delimited
  public var options = ServeOptions()

  public init() { options.maxBatch = 512 }

  /// The production ranker with random weights (eval mode), as the server loads it.
  public func makeRanker(seed: UInt64 = 1) throws -> LoadedRanker {
    let run = try RecapRun(configPath: configPath)
    run.seed = seed
    let model = try run.makeModel()
    model.eval()
    return try LoadedRanker(run: run, model: model, checkpoint: "random-init", step: 0, loadNumber: 1)
  }

  /// `candidates` random records of the config's schema (`RandomRecapData`).
  public func makeRecords(_ ranker: LoadedRanker) throws -> [[UInt8]] {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tml-bench-serve-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let files = try RandomRecapData(schema: ranker.run.schema, config: ranker.run.trainData, seed: 7)
      .write(examples: candidates, files: 1, to: dir)
    let reader = try TFRecordReader(path: files[0])
    var out: [[UInt8]] = []
    while let r = try reader.next() { out.append(r) }
    return out
  }

  /// The request body for `records` in `format`.
  public static func body(_ records: [[UInt8]], format: BodyFormat) -> (bytes: [UInt8], contentType: String) {
    switch format {
    case .delimited: return (DelimitedExamples.join(records), DelimitedExamples.contentType)
    case .json:
      let items = records.enumerated().map { #"{"id":\#($0),"example":"\#(Data($1).base64EncodedString())"}"# }
      return (Array(#"{"candidates":[\#(items.joined(separator: ","))]}"#.utf8), "application/json")
    }
  }

  /// For bench/load.sh: the random production ranker as a checkpoint `<dir>/ranker`
  /// (`checkpoints/step_0`) and one request body `<dir>/body.<format>`.
  public func writeLoadFixtures(to dir: URL) throws -> (checkpoint: URL, body: URL, contentType: String) {
    let ranker = try makeRanker()
    let checkpoint = dir.appendingPathComponent("ranker")
    try CheckpointManager(saveDir: checkpoint).save(step: 0, model: ranker.model.stateDict(), optimizer: StateDict(),
                                                    state: CheckpointState(step: 0))
    let (bytes, contentType) = ServeBenchmark.body(try makeRecords(ranker), format: format)
    let body = dir.appendingPathComponent("body.\(format.rawValue)")
    try Data(bytes).write(to: body)
    return (checkpoint, body, contentType)
  }

  public func run(progress: (String) -> Void = { _ in }) throws -> Result {
    progress("building the production ranker")
    let ranker = try makeRanker()
    let records = try makeRecords(ranker)
    // The pure model: the eval forward pass on the rows already built into tensors.
    let batch = try ranker.builder.build(records.enumerated().map { RawRecord(bytes: $1, file: "bench", index: $0) })
    let task = RecapTrainingTask(model: ranker.model)
    progress("timing the model alone")
    let model = try Stopwatch.median(warmup: 2, repeats: 9) { _ = try noGrad { try task.forward(batch) } }
    let build = try Stopwatch.median(warmup: 1, repeats: 5) {
      _ = try ranker.builder.build(records.enumerated().map { RawRecord(bytes: $1, file: "bench", index: $0) })
    }
    let (body, contentType) = ServeBenchmark.body(records, format: format)
    let decode = try Stopwatch.median(warmup: 1, repeats: 5) {
      switch format {
      case .delimited: _ = try DelimitedExamples.split(body, maxCandidates: candidates)
      case .json: _ = try RankRequest.decode(try JSONReader.parse(body), encoder: ranker.encoder, maxCandidates: candidates)
      }
    }
    var options = self.options
    options.port = 0
    options.maxCandidates = max(options.maxCandidates, candidates)
    options.maxBodyBytes = max(options.maxBodyBytes, body.count + 1024)
    let server = try BenchServer.start(ranker: ranker, options: options)
    defer { server.stop() }
    var levels: [Level] = []
    func modelAlone() throws -> Double { try Stopwatch.median(warmup: 1, repeats: 3) { _ = try noGrad { try task.forward(batch) } } }
    for c in concurrencies {
      // Rounds alternate the model alone and the server under load, so that whatever
      // else the machine runs weighs on both alike.
      var windows: [Level] = []
      var model: [Double] = []
      let before = server.passTotals()
      for round in 1...max(rounds, 1) {
        progress("concurrency \(c), round \(round)")
        model.append(try modelAlone())
        windows.append(try load(port: server.port, concurrency: c, body: body, contentType: contentType,
                                seconds: secondsPerLevel / Double(max(rounds, 1))))
      }
      model.append(try modelAlone())
      let after = server.passTotals()
      let latencies = windows.flatMap(\.latencies).sorted()
      var level = Level(concurrency: c, requests: latencies.count, errors: windows.reduce(0) { $0 + $1.errors },
                        seconds: windows.reduce(0) { $0 + $1.seconds }, latencies: latencies)
      level.passes = Int(after.passes - before.passes)
      level.rowsPerPass = (after.rows - before.rows) / max(after.passes - before.passes, 1)
      level.passMilliseconds = (after.seconds - before.seconds) / max(after.passes - before.passes, 1) * 1e3
      level.modelMilliseconds = model.sorted()[model.count / 2] * 1e3
      levels.append(level)
    }
    return Result(modelP50Milliseconds: model * 1e3, modelRowsPerSecond: Double(candidates) / model, buildMilliseconds: build * 1e3,
                  decodeMilliseconds: decode * 1e3, bodyBytes: body.count, levels: levels)
  }

  /// `concurrency` threads sending the same request back to back for `secondsPerLevel`
  /// (after one warm-up request each).
  func load(port: Int, concurrency: Int, body: [UInt8], contentType: String, seconds duration: Double) throws -> Level {
    let state = LoadState()
    let group = DispatchGroup()
    let warmedUp = DispatchGroup()
    let startGate = DispatchSemaphore(value: 0)
    for _ in 0..<concurrency {
      group.enter()
      warmedUp.enter()
      Thread.detachNewThread {
        defer { group.leave() }
        do {
          let connection: LoopbackHTTPConnection
          do {
            defer { warmedUp.leave() }
            connection = try LoopbackHTTPConnection(port: port)
            _ = try connection.post(path: "/v1/rank", contentType: contentType, body: body)
          }
          startGate.wait()
          while Stopwatch.now() < state.deadline {
            let t0 = Stopwatch.now()
            let (status, reply) = try connection.post(path: "/v1/rank", contentType: contentType, body: body)
            state.record(Stopwatch.now() - t0, error: status == 200 ? nil : "\(status): \(String(decoding: reply.prefix(200), as: UTF8.self))")
          }
        } catch {
          state.record(0, error: "\(error)")
        }
      }
    }
    // Every thread has connected and had its warm-up request answered before the clock
    // starts; the clock stops when the last request started before the deadline returns.
    warmedUp.wait()
    let start = Stopwatch.now()
    state.deadline = start + duration
    for _ in 0..<concurrency { startGate.signal() }
    group.wait()
    let seconds = Stopwatch.now() - start
    let (latencies, errors, firstError) = state.results()
    if let firstError { FileHandle.standardError.write(Data("bench serve: first error at concurrency \(concurrency): \(firstError)\n".utf8)) }
    return Level(concurrency: concurrency, requests: latencies.count, errors: errors, seconds: seconds, latencies: latencies)
  }
}

/// What the client threads of one load level record.
private final class LoadState: @unchecked Sendable {
  private let lock = NSLock()
  private var latencies: [Double] = []
  private var errors = 0
  private var firstError: String?
  private var _deadline = Double.infinity

  var deadline: Double {
    get { lock.withLock { _deadline } }
    set { lock.withLock { _deadline = newValue } }
  }

  func record(_ seconds: Double, error: String?) {
    lock.withLock {
      if let error {
        errors += 1
        if firstError == nil { firstError = error }
      } else {
        latencies.append(seconds)
      }
    }
  }

  /// Sorted latencies (s), the error count and the first error.
  func results() -> ([Double], Int, String?) { lock.withLock { (latencies.sorted(), errors, firstError) } }
}

/// A `ServeServer` on an ephemeral loopback port, run from synchronous code.
final class BenchServer: @unchecked Sendable {
  let port: Int
  private let task: Task<Void, Error>
  private let core: ServeCore

  private init(port: Int, task: Task<Void, Error>, core: ServeCore) {
    self.port = port
    self.task = task
    self.core = core
  }

  static func start(ranker: LoadedRanker, options: ServeOptions) throws -> BenchServer {
    let core = ServeCore(options: options, store: ModelStore(ranker: ranker, twhin: nil))
    var server = ServeServer(core: core)
    server.logger.logLevel = .critical
    let bound = DispatchSemaphore(value: 0)
    let port = PortBox()
    let task = Task { try await server.application(onRunning: { port.value = $0; bound.signal() }).run() }
    guard bound.wait(timeout: .now() + 30) == .success else { throw ServeError(500, "bench serve: the server did not start within 30 s") }
    return BenchServer(port: port.value, task: task, core: core)
  }

  /// Forward passes so far, their rows and seconds (from the server's metrics).
  func passTotals() -> (passes: Double, rows: Double, seconds: Double) {
    var values: [String: Double] = [:]
    for line in core.metrics.exposition().split(separator: "\n") where !line.hasPrefix("#") {
      let parts = line.split(separator: " ")
      if parts.count == 2 { values[String(parts[0])] = Double(parts[1]) }
    }
    return (values["tml_rank_batch_rows_count"] ?? 0, values["tml_rank_batch_rows_sum"] ?? 0, values["tml_rank_pass_duration_seconds_sum"] ?? 0)
  }

  func stop() {
    task.cancel()
    core.shutdown()
  }
}

private final class PortBox: @unchecked Sendable {
  var value = 0
}
