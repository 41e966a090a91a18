import ArgumentParser
import Foundation
import Recap
import TMLServe
import TMLTensor

/// `tml serve`: the HTTP ranking service (TMLServe; docs/serving.md).
struct Serve: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve the Heavy Ranker and TwHIN over HTTP: /v1/rank, /v1/neighbors, /v1/feed, /healthz, /readyz, /metrics, /admin/reload.",
    discussion: "Both models are optional. The server listens at once and answers 503 until the models are loaded (see /readyz); a model that fails to load at start stops the server with the reason. API: docs/serving.md, docs/openapi.yaml.")

  @Option(help: "Ranker checkpoint: a save dir (newest step) or a step_<N> directory.") var ranker: String?
  @Option(help: "The ranker's YAML config (e.g. configs/recap/small.yaml).") var rankerConfig: String?
  @Option(help: "TwHIN checkpoint: a save dir (newest step) or a step_<N> directory.") var twhin: String?
  @Option(help: "The TwHIN YAML config (e.g. configs/twhin/planted.yaml).") var twhinConfig: String?
  @Option(help: "Address to listen on.") var host = "127.0.0.1"
  @Option(help: "Port to listen on (0: any free port, printed at start).") var port = 8080
  @Option(help: "Inference arithmetic: fp32, or bf16 (see docs/engine.md).") var precision: Precision = .fp32
  @Option(help: "Most candidates in one forward pass; concurrent requests are batched up to it.") var maxBatch = 512
  @Option(name: .customLong("max-wait-us"), help: "Microseconds the oldest queued request waits for others to join its forward pass.") var maxWaitUs = 1000
  @Option(help: "Most candidates per request (more: 413).") var maxCandidates = 1000
  @Option(help: "Largest request body in bytes (more: 413).") var maxBodyBytes = 64 << 20
  @Option(help: "YAML/JSON {head: weight} overriding the default (April 2023) engagement weights.") var weights: String?
  @Option(help: "Search breadth for \"exact\": false requests: HNSW's ef, or the rows the PQ scan rescores.") var annEf = 100
  @Option(help: "Index for \"exact\": false requests: hnsw (the TwHIN checkpoint's, from tml twhin build-ann) or pq (a PQ fast scan of every rhs table, built at load).") var annIndex: String = "hnsw"
  @Option(help: "Every this many seconds, reload a model whose save dir has a newer checkpoints/step_<N> (0: never).") var watchSeconds: Double = 0

  func validate() throws {
    guard (ranker == nil) == (rankerConfig == nil) else { throw ValidationError("--ranker and --ranker-config go together") }
    guard (twhin == nil) == (twhinConfig == nil) else { throw ValidationError("--twhin and --twhin-config go together") }
    guard ["hnsw", "pq"].contains(annIndex) else { throw ValidationError("--ann-index must be hnsw or pq, got \(annIndex)") }
    guard ranker != nil || twhin != nil else { throw ValidationError("give a ranker (--ranker, --ranker-config), a TwHIN model (--twhin, --twhin-config), or both") }
  }

  func run() throws {
    Precision.inference = precision
    var options = ServeOptions()
    options.host = host
    options.port = port
    options.maxBatch = maxBatch
    options.maxWaitMicroseconds = maxWaitUs
    options.maxCandidates = maxCandidates
    options.maxBodyBytes = maxBodyBytes
    if let weights { options.weights = try EngagementScore(overridesFrom: weights) }
    try options.check()
    let store = ModelStore(ranker: ranker.map { ModelSource(config: rankerConfig!, checkpoint: $0) },
                           twhin: twhin.map { ModelSource(config: twhinConfig!, checkpoint: $0) },
                           loadTwHIN: { [annEf, annIndex] in
                             let t = try LoadedTwHIN.load(configPath: $0.config, checkpoint: $0.checkpoint, loadNumber: $1, annSearchBreadth: annEf)
                             if annIndex == "pq" { try t.buildPQIndexes(rerank: annEf) }
                             return t
                           })
    let server = ServeServer(core: ServeCore(options: options, store: store))
    let watcher = watchSeconds > 0 ? CheckpointWatcher(store: store, intervalSeconds: watchSeconds, onEvent: { print($0); fflush(stdout) }) : nil
    store.startLoading {
      // A model that does not load at start is a configuration error: stop, naming it.
      for (name, state) in [("ranker", store.rankerState), ("TwHIN model", store.twhinState)] {
        if case .failed(let reason) = state {
          FileHandle.standardError.write(Data("Error: the \(name) failed to load: \(reason)\n".utf8))
          Foundation.exit(1)
        }
      }
      let versions = [("ranker", store.ranker?.version), ("twhin", store.twhin?.version)].compactMap { n, v in v.map { "\(n) \($0)" } }
      print("models loaded: \(versions.joined(separator: ", "))")
      fflush(stdout)
      watcher?.start()
    }
    defer { watcher?.stop() }
    let address = options.host
    let done = DispatchSemaphore(value: 0)
    let failure = LockedError()
    Task {
      do {
        try await server.run { port in
          print("tml serve listening on http://\(address):\(port) (precision \(Precision.inference.rawValue))")
          fflush(stdout)
        }
      } catch { failure.set(error) }
      done.signal()
    }
    done.wait()
    if let error = failure.get() { throw error }
  }
}

/// An error handed from the server task to the command's thread.
private final class LockedError: @unchecked Sendable {
  private let lock = NSLock()
  private var error: Error?
  func set(_ e: Error) { lock.withLock { error = e } }
  func get() -> Error? { lock.withLock { error } }
}
