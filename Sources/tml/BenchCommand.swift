import ArgumentParser
import Foundation
import TMLBench
import TMLTensor

/// `tml bench`: engine speed and memory (see TMLBench.EngineBenchmark).
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Benchmarks (build with -c release). Default: the tensor engine.",
    subcommands: [Engine.self, GEMM.self, DataRead.self, RecapModel.self, TwHINModel.self, DistributedModel.self, ServeModel.self, ANN.self], defaultSubcommand: Engine.self)
}

extension Bench {
  struct Engine: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "GEMM GFLOP/s, Linear fwd+bwd vs raw GEMMs, MaskBlock training throughput, RSS over steps.")

    @Flag(help: "Fewer repeats and steps (about half a minute).") var quick = false
    @OptionGroup var threading: BenchThreads

    func run() throws {
      threading.apply()
      let bench = EngineBenchmark(quick: quick)
      print("SwiftTML engine benchmark — \(Parallelism.threadCount) threads, OpenBLAS threads \(BLAS.threads)\(quick ? ", quick" : "")")
      print(CPUDescription.current().summary)
      print(BenchThreads.gemmBackend)
      print("")
      print("GEMM and Linear (batch M=128):")
      print("  shape (M×K×N)      GEMM GFLOP/s    3 raw GEMMs   Linear fwd+bwd   ratio (target ≤ 1.15)")
      for s in bench.shapes {
        let r = try bench.runLinear(s)
        print(String(format: "  %3d×%4d×%4d      %8.1f        %7.2f ms     %7.2f ms        %.3f",
                     s.m, s.k, s.n, r.gemmGFLOPS, r.rawSeconds * 1e3, r.linearSeconds * 1e3, r.ratio))
      }
      print("")
      let bar = ProgressBar(total: bench.longSteps, label: "MaskBlock steps")
      let m = try bench.runMaskBlock(progress: { done, _ in bar.update(done) })
      print("MaskBlock 2776 → mask 1024 → hidden 1024 + LayerNorm, batch \(m.batch), fwd+bwd+Adam:")
      print(String(format: "  %.2f ms/step, %.0f examples/s", m.secondsPerStep * 1e3, m.examplesPerSecond))
      print(String(format: "  peak RSS after %d steps: %.1f MB; after %d steps: %.1f MB (growth %+.2f%%, target within 5%%)",
                   m.shortSteps, Double(m.rssAfterShortRun) / 1e6, m.longSteps, Double(m.rssAfterLongRun) / 1e6, m.rssGrowth * 100))
    }
  }
}

extension Bench {
  struct GEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "GFLOP/s of each GEMM variant (avx512, avx2, blas) on the ranker's shapes, interleaved in one process.")

    @Option(help: "Timed calls per shape and variant.") var rounds = 15
    @OptionGroup var threading: BenchThreads

    func run() throws {
      threading.apply()
      let bench = GEMMComparison(rounds: rounds)
      print("SwiftTML GEMM variants — \(Parallelism.threadCount) threads, median of \(rounds) interleaved calls")
      print(CPUDescription.current().summary)
      print("  shape (M×K×N)          " + bench.variants.map { $0.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) }.joined() + "GFLOP/s")
      for r in bench.run() {
        print("  " + r.shape.label.padding(toLength: 22, withPad: " ", startingAt: 0) + r.gflops.map { String(format: "%8.1f  ", $0) }.joined())
      }
    }
  }
}

extension Bench {
  struct DataRead: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "data",
      abstract: "Read+parse speed of gzip TFRecord tf.Examples with the production ranker schema.")

    @Flag(help: "Fewer examples (about 1000).") var quick = false
    @Option(help: "Keep the generated file in this directory instead of a temporary one.") var dir: String?
    @Option(help: "Number of examples to generate (default 4096, or 1024 with --quick); 40000 ≈ 1 GB.") var examples: Int?

    func run() throws {
      var bench = DataBenchmark(quick: quick, directory: dir.map { URL(fileURLWithPath: $0) })
      if let examples { bench.examples = examples }
      defer { if dir == nil { bench.cleanUp() } }
      let bar = ProgressBar(total: bench.examples, label: "generating examples")
      let file = try bench.generate(progress: { bar.update($0) })
      print("SwiftTML data benchmark — \(bench.examples) examples, full reference schema (6000 continuous, 512 binary,")
      print("320 discrete, 3×200 embeddings, 13 labels), gzip TFRecord, batch \(bench.batchSize)")
      print("")
      print("  mode                                   examples/s   MB/s (gzip)   MB/s (raw)")
      for r in try bench.run(file: file) {
        let label = r.label.padding(toLength: 38, withPad: " ", startingAt: 0)
        print("  " + label + String(format: " %9.0f   %10.1f   %10.1f", r.examplesPerSecond, r.compressedMBPerSecond, r.uncompressedMBPerSecond))
      }
      let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
      print(String(format: "  file %.0f MB (gzip); peak RSS of this process %.0f MB", Double(size) / 1e6, Double(Stopwatch.peakRSSBytes()) / 1e6))
    }
  }
}

extension Bench {
  struct RecapModel: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "recap",
      abstract: "Production Heavy Ranker: training and inference examples/s at batch 128, latency at batch 1/8/512.")

    @Flag(help: "Fewer repeats.") var quick = false
    @Flag(help: "Instead of the throughput numbers: time per op kind (forward/backward), per GEMM shape with GFLOP/s, and outside GEMMs.")
    var profile = false
    @Option(help: "Inference arithmetic: fp32 or bf16 (training stays fp32).") var precision: Precision = .fp32
    @OptionGroup var threading: BenchThreads

    func run() throws {
      threading.apply()
      Precision.inference = precision
      if profile {
        print("SwiftTML Heavy Ranker profile — \(Parallelism.threadCount) threads; \(BenchThreads.gemmBackend)")
        print(CPUDescription.current().summary)
        print("")
        print(try RecapProfile(steps: quick ? 5 : 20).report)
        return
      }
      let bench = RecapBenchmark(quick: quick)
      let r = try bench.run()
      print("SwiftTML Heavy Ranker benchmark — production architecture (2117 continuous, 59 binary, 3×200 embeddings,")
      print("4 parallel MaskBlocks of 1024, MLP 2048, 10 towers 256-128-1 with batch norm), \(r.parameterCount) parameters,")
      print("\(Parallelism.threadCount) threads; \(BenchThreads.gemmBackend)")
      print(CPUDescription.current().summary)
      print(String(format: "  training  (fwd + loss + bwd + Adam), batch %d: %8.1f examples/s", bench.batchSize, r.trainExamplesPerSecond))
      print(String(format: "  inference (eval forward, %@),     batch %d: %8.1f examples/s", precision.rawValue, bench.batchSize, r.inferenceExamplesPerSecond))
      for (n, ms) in r.latencyMilliseconds {
        print(String(format: "  inference latency, batch %4d: %8.2f ms", n, ms))
      }
    }
  }
}

extension Bench {
  struct TwHINModel: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "twhin",
      abstract: "TwHIN training edges/s: the original's local shape (dim 4) and dim 200 with large tables; peak RSS.",
      discussion: "Run one shape per process (--shape) so each peak RSS is its own. Compare with bench/torch_twhin.py.")

    @Option(help: "local, large or all (all runs each shape in a child process).") var shape: String = "all"
    @Option(help: "Timed steps.") var steps: Int?
    @Option(help: "Rows of the user table in the large shape.") var userRows: Int = 10_000_000
    @Option(help: "Rows of the tweet table in the large shape.") var tweetRows: Int = 10_000_000
    @OptionGroup var threading: BenchThreads

    func run() throws {
      threading.apply()
      guard shape != "all" else {
        for s in ["local", "large"] {
          var args = ["bench", "twhin", "--shape", s, "--user-rows", "\(userRows)", "--tweet-rows", "\(tweetRows)"]
          if let steps { args += ["--steps", "\(steps)"] }
          if let threads = threading.threads { args += ["--threads", "\(threads)"] }
          let p = Process()
          p.executableURL = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
          p.arguments = args
          try p.run()
          p.waitUntilExit()
          guard p.terminationStatus == 0 else { throw ExitCode(p.terminationStatus) }
        }
        return
      }
      let s: TwHINBenchmark.Shape
      switch shape {
      case "local": s = .local
      case "large": s = .large(userRows: userRows, tweetRows: tweetRows)
      default: throw ValidationError("--shape must be local, large or all")
      }
      let bench = TwHINBenchmark(shape: s, steps: steps ?? (s.dim > 100 ? 200 : 2000))
      let bar = ProgressBar(total: bench.steps, label: "\(s.name) steps")
      let r = try bench.run { done, _ in bar.update(done) }
      bar.finish()
      let budget = Double(s.tableBytes + s.stateBytes)
      print(String(format: "twhin %@: tables %d + %d rows, dim %d, batch %d, %d in-batch + %d global negatives, %@: %.0f edges/s (%.3f ms/step)",
                   s.name, s.userRows, s.tweetRows, s.dim, s.batch, s.inBatchNegatives, s.globalNegatives, s.optimizer.rawValue,
                   r.edgesPerSecond, r.secondsPerStep * 1e3))
      print(String(format: "  init %.1f s; tables %.1f MB + optimizer state %.1f MB; peak RSS %.1f MB = %.3f × (tables + state)",
                   r.initSeconds, Double(s.tableBytes) / 1e6, Double(s.stateBytes) / 1e6, Double(r.peakRSSBytes) / 1e6,
                   Double(r.peakRSSBytes) / budget))
    }
  }
}

/// `--threads` for every `tml bench` subcommand, and the GEMM backend line they print.
struct BenchThreads: ParsableArguments {
  @Option(help: "Worker threads for our kernels and OpenBLAS (default: all cores).") var threads: Int?

  func apply() {
    if let threads {
      Parallelism.threadCount = threads
      BLAS.threads = threads
    }
  }

  /// The active GEMM and the choices `SWIFTTML_GEMM` offers on this CPU.
  static var gemmBackend: String {
    let choices = GEMMKernel.Variant.allCases.filter(\.isSupported).map(\.rawValue).joined(separator: "|")
    return "GEMM: \(GEMMKernel.active.summary) (SWIFTTML_GEMM=\(GEMMKernel.active.rawValue); this CPU: \(choices))"
  }
}
