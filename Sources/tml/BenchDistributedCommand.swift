import ArgumentParser
import Foundation
import TMLBench
import TMLDistributed
import TMLTensor

extension Bench {
  /// `tml bench distributed`: starts itself under mpirun with 1 and 2 ranks (`--worker`)
  /// and prints the ranker's data-parallel throughput and communication per step.
  struct DistributedModel: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "distributed",
      abstract: "Data-parallel production Heavy Ranker under mpirun: examples/s with 1 and 2 ranks × 1 thread, communication time and bytes per step.")

    @Option(help: "Timed steps per run.") var steps = 10
    @Option(help: "Rows per rank per step.") var batch = 128
    @Option(help: "Rank counts to run, comma-separated.") var ranks = "1,2"
    @Option(help: "Threads per rank (kernels and OpenBLAS).") var threads = 1
    @Flag(help: .hidden) var worker = false

    func run() throws {
      Parallelism.threadCount = threads
      BLAS.threads = threads
      if worker {
        let comm = try Distributed.communicator()
        var bench = DistributedRecapBenchmark(steps: steps)
        bench.batchPerRank = batch
        let r = try bench.run(communicator: comm)
        if comm.rank == 0 { print(r.line) }
        return
      }
      let counts = ranks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
      guard !counts.isEmpty else { throw ValidationError("--ranks: give rank counts such as 1,2") }
      let me = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
      let program = FileManager.default.isExecutableFile(atPath: me) ? me : (Bundle.main.executablePath ?? me)
      print("SwiftTML data-parallel Heavy Ranker — production architecture, \(batch) rows per rank, \(threads) thread\(threads == 1 ? "" : "s") per rank, \(steps) timed steps, mpirun on this machine")
      print(CPUDescription.current().summary)
      print("")
      print("  ranks   examples/s   speed-up   ms/step   comm ms/step   comm MB/step (payload per rank)   collectives/step")
      var base: Double?
      for n in counts {
        let out = try MPILauncher.run(ranks: n, program: program,
                                      arguments: ["bench", "distributed", "--worker", "--steps", "\(steps)", "--batch", "\(batch)", "--threads", "\(threads)"],
                                      timeout: 1200)
        guard out.status == 0, let r = DistributedRecapBenchmark.Result(parsing: out.output) else {
          throw ValidationError("the \(n)-rank run failed (exit \(out.status)):\n\(out.output)")
        }
        if base == nil { base = r.examplesPerSecond }
        print(String(format: "  %5d   %10.0f   %7.2f×   %7.1f   %12.1f   %10.1f                       %5.0f", n, r.examplesPerSecond, r.examplesPerSecond / (base ?? 1),
                     r.secondsPerStep * 1e3, r.communicationSecondsPerStep * 1e3, r.communicationBytesPerStep / 1e6, r.communicationCallsPerStep))
        if n == counts.last { print(String(format: "  (%d parameters, %.1f MB of fp32 gradients all-reduced per step)", r.parameterCount, Double(r.parameterCount) * 4 / 1e6)) }
      }
      print("  TwHIN: not distributed yet (see docs/distributed.md)")
    }
  }
}
