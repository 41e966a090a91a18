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
      abstract: "Data-parallel production Heavy Ranker and model-parallel TwHIN under mpirun: examples (edges)/s with 1 and 2 ranks × 1 thread, communication time and bytes per step.")

    @Option(help: "Timed steps per run.") var steps = 10
    @Option(help: "Rows per rank per step.") var batch = 128
    @Option(help: "Rank counts to run, comma-separated.") var ranks = "1,2"
    @Option(help: "Threads per rank (kernels and OpenBLAS).") var threads = 1
    @Option(help: "Which model: recap, twhin or both.") var model = "both"
    @Option(help: "TwHIN: edges per rank per step (the global batch grows with the ranks).") var edges = 20000
    @Option(help: "TwHIN: rows of each of its two tables.") var rows = 1_000_000
    @Option(help: "Ranker: rows of a large_embeddings id table (64-d, one id per example, row-sharded over the ranks); 0 for none.") var idTableRows = 0
    @Flag(help: .hidden) var worker = false

    func run() throws {
      Parallelism.threadCount = threads
      BLAS.threads = threads
      guard ["recap", "twhin", "both"].contains(model) else { throw ValidationError("--model: recap, twhin or both, not '\(model)'") }
      if worker {
        let comm = try Distributed.communicator()
        let r: DistributedRecapBenchmark.Result
        if model == "twhin" {
          var bench = DistributedTwHINBenchmark(steps: steps)
          bench.edgesPerRank = edges
          bench.rows = rows
          r = try bench.run(communicator: comm)
        } else {
          var bench = DistributedRecapBenchmark(steps: steps)
          bench.batchPerRank = batch
          bench.idTableRows = idTableRows
          r = try bench.run(communicator: comm)
        }
        if comm.rank == 0 { print(r.line) }
        return
      }
      let counts = ranks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
      guard !counts.isEmpty else { throw ValidationError("--ranks: give rank counts such as 1,2") }
      let me = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
      let program = FileManager.default.isExecutableFile(atPath: me) ? me : (Bundle.main.executablePath ?? me)
      print(CPUDescription.current().summary)
      if model != "twhin" {
        print("")
        let idTable = idTableRows > 0 ? ", a \(idTableRows)-row 64-d large_embeddings table row-sharded over the ranks" : ""
        print("Heavy Ranker, data-parallel — production architecture\(idTable), \(batch) rows per rank, \(threads) thread\(threads == 1 ? "" : "s") per rank, \(steps) timed steps, mpirun on this machine")
        print("  ranks   examples/s   speed-up   ms/step   comm ms/step   comm MB/step (payload per rank)   collectives/step")
        try table(counts, program: program, model: "recap") { r in
          String(format: "  (%d dense parameters, %.1f MB of fp32 gradients all-reduced per step)", r.parameterCount, Double(r.parameterCount) * 4 / 1e6)
        }
      }
      if model != "recap" {
        print("")
        print("TwHIN, model-parallel — two \(rows)-row tables, dim 128, 4 relations, \(edges) edges per rank (weak scaling), 10 in-batch + 10 global negatives, row-wise Adagrad")
        print("  ranks      edges/s   speed-up   ms/step   comm ms/step   comm MB/step (payload per rank)   collectives/step")
        try table(counts, program: program, model: "twhin") { r in
          String(format: "  (%d embedding parameters, %.1f MB of tables, sharded over the ranks)", r.parameterCount, Double(r.parameterCount) * 4 / 1e6)
        }
      }
    }

    private func table(_ counts: [Int], program: String, model: String, footer: (DistributedRecapBenchmark.Result) -> String) throws {
      var base: Double?
      for n in counts {
        let out = try MPILauncher.run(ranks: n, program: program,
                                      arguments: ["bench", "distributed", "--worker", "--model", model, "--steps", "\(steps)", "--batch", "\(batch)",
                                                  "--threads", "\(threads)", "--edges", "\(edges)", "--rows", "\(rows)", "--id-table-rows", "\(idTableRows)"],
                                      timeout: 1200)
        guard out.status == 0, let r = DistributedRecapBenchmark.Result(parsing: out.output) else {
          throw ValidationError("the \(n)-rank \(model) run failed (exit \(out.status)):\n\(out.output)")
        }
        if base == nil { base = r.examplesPerSecond }
        print(String(format: "  %5d   %10.0f   %7.2f×   %7.1f   %12.1f   %10.1f                       %5.0f", n, r.examplesPerSecond, r.examplesPerSecond / (base ?? 1),
                     r.secondsPerStep * 1e3, r.communicationSecondsPerStep * 1e3, r.communicationBytesPerStep / 1e6, r.communicationCallsPerStep))
        if n == counts.last { print(footer(r)) }
      }
    }
  }
}
