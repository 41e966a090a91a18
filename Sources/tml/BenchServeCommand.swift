import ArgumentParser
import Foundation
import TMLBench
import TMLServe
import TMLTensor

extension Bench {
  /// `tml bench serve` (TMLBench.ServeBenchmark).
  struct ServeModel: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "serve",
      abstract: "tml serve under load: the production ranker, 500 candidates per request, concurrency 1, 4, 16 (p50/p99, requests/s, candidates/s, errors) against the model alone.",
      discussion: "Build with -c release. --write-load-fixtures DIR writes the checkpoint and request body bench/load.sh uses with wrk.")

    @Option(help: "Candidates per request.") var candidates = 500
    @Option(help: "Client concurrencies, comma-separated.") var concurrency = "1,4,16"
    @Option(help: "Seconds of load per concurrency.") var seconds: Double = 15
    @Option(help: "Request body: delimited (length-delimited tf.Examples) or json (base64 tf.Examples in JSON).")
    var format: ServeBenchmark.BodyFormat = .delimited
    @Option(help: "The server's --max-batch.") var maxBatch = 512
    @Option(help: "Alternations of the model alone and the loaded server per concurrency.") var rounds = 3
    @Option(name: .customLong("max-wait-us"), help: "The server's --max-wait-us.") var maxWaitUs = 1000
    @Option(help: "Inference arithmetic: fp32 or bf16.") var precision: Precision = .fp32
    @Option(help: "The ranker config (production architecture).") var config = "configs/recap/production.yaml"
    @Option(help: "Only write the load fixtures (checkpoint, body) into this directory and exit.") var writeLoadFixtures: String?
    @OptionGroup var threading: BenchThreads

    func run() throws {
      threading.apply()
      Precision.inference = precision
      var bench = ServeBenchmark()
      bench.configPath = config
      bench.candidates = candidates
      bench.secondsPerLevel = seconds
      bench.rounds = rounds
      bench.format = format
      bench.options.maxBatch = maxBatch
      bench.options.maxWaitMicroseconds = maxWaitUs
      bench.concurrencies = try concurrency.split(separator: ",").map {
        guard let c = Int($0.trimmingCharacters(in: .whitespaces)), c > 0 else { throw ValidationError("--concurrency: \($0) is not a positive integer") }
        return c
      }
      if let dir = writeLoadFixtures {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let f = try bench.writeLoadFixtures(to: URL(fileURLWithPath: dir))
        print("checkpoint: \(f.checkpoint.path)\nbody: \(f.body.path)\ncontent-type: \(f.contentType)")
        return
      }
      let r = try bench.run { print("… \($0)") }
      print("SwiftTML tml serve benchmark — \(config), \(candidates) candidates per request, \(format.rawValue) bodies of \(r.bodyBytes / 1024) KiB,")
      print("max batch \(maxBatch), max wait \(maxWaitUs) µs, \(precision.rawValue), \(Parallelism.threadCount) threads; \(BenchThreads.gemmBackend)")
      print(CPUDescription.current().summary)
      print(String(format: "  model alone, batch %d: p50 %.1f ms, %.0f candidates/s   (body → records: %.1f ms; tf.Example → batch: %.1f ms)",
                   candidates, r.modelP50Milliseconds, r.modelRowsPerSecond, r.decodeMilliseconds, r.buildMilliseconds))
      print("  concurrency   requests   errors     p50 ms     p99 ms   requests/s   candidates/s   passes  rows/pass  ms/pass   model ms")
      for l in r.levels {
        print(String(format: "  %11d %10d %8d %10.1f %10.1f %12.2f %14.0f %8d %10.0f %8.1f %10.1f", l.concurrency, l.requests, l.errors,
                     l.p50Milliseconds, l.p99Milliseconds, l.requestsPerSecond, l.requestsPerSecond * Double(candidates), l.passes,
                     l.rowsPerPass, l.passMilliseconds, l.modelMilliseconds))
      }
      print("  (model ms: median of the model alone on the same \(candidates) rows, timed between the \(rounds) load windows of each level)")
      if let one = r.levels.first(where: { $0.concurrency == 1 }) {
        print(String(format: "  p50 at concurrency 1 / model alone: %.2f× (goal ≤ 1.2)", one.p50Milliseconds / one.modelMilliseconds))
      }
      if let most = r.levels.max(by: { $0.concurrency < $1.concurrency }), most.concurrency > 1 {
        print(String(format: "  candidates/s at concurrency %d / model alone: %.0f%% (goal ≥ 90%%)", most.concurrency,
                     most.requestsPerSecond * most.modelMilliseconds / 1e3 * 100))
      }
    }
  }
}

extension ServeBenchmark.BodyFormat: ExpressibleByArgument {}
