import ArgumentParser
import Foundation
import TMLANN
import TMLBench

extension Bench {
  /// `tml bench ann`: HNSW recall and speed against the exact scan on random vectors.
  struct ANN: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "ann",
      abstract: "HNSW (hnswlib) vs the exact scan on random vectors: build time, recall@10 and per-query speed-up for several ef.")
    @Option(help: "Rows of the indexed matrix.") var rows: Int = 1_000_000
    @Option(help: "Vector dimension.") var dim: Int = 128
    @Option(help: "Queries (each scanned exactly for the ground truth).") var queries: Int = 200
    @Option(help: "gaussian (N(0, I)), sphere (unit vectors) or clustered (rows/1000 Gaussian clusters).") var distribution: String = "gaussian"
    @Option(help: "hnsw (the graph index) or pq (4-bit product-quantisation fast scan + exact rescoring).") var index: String = "hnsw"
    @Option(help: "pq: subspaces (each row is subspaces/2 bytes in the scan).") var subspaces: Int = 16
    @Option(help: "HNSW links per node and layer.") var m: Int = 16
    @Option(help: "Candidate list while inserting.") var efConstruction: Int = 200
    @Option(help: "Search breadths to measure (pq: rows rescored exactly), comma-separated.") var ef: String = "10,20,50,100,200,400,800"
    @Option(help: "Threads inserting (queries run on one thread, as the exact scan).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
      guard let dist = ANNBenchmark.Distribution(rawValue: distribution) else { throw ValidationError("--distribution must be gaussian, sphere or clustered") }
      let efs = try ef.split(separator: ",").map { s -> Int in
        guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v > 0 else { throw ValidationError("--ef: \"\(s)\" is not a positive integer") }
        return v
      }
      guard let method = ANNBenchmark.Method(rawValue: index) else { throw ValidationError("--index must be hnsw or pq") }
      print(CPUDescription.current().summary)
      var bench = ANNBenchmark(rows: rows, dimension: dim, queries: queries, parameters: HNSWParameters(m: m, efConstruction: efConstruction),
                               efs: efs, buildThreads: threads, distribution: dist)
      bench.method = method
      bench.subspaces = subspaces
      var bars: [String: ProgressBar] = [:]
      let r = try bench.run { phase, done, total in
        let bar = bars[phase] ?? { let b = ProgressBar(total: total, label: phase); bars[phase] = b; return b }()
        bar.update(done)
        if done == total { bar.finish() }
      }
      let what = method == .hnsw ? String(format: "HNSW m %d, ef_construction %d, %d build threads", m, efConstruction, threads)
                                 : "PQ fast scan, \(subspaces) subspaces × 4 bits"
      print(String(format: "ann: %d × %d %@ vectors, %@: built in %.1f s; %@ kernel", rows, dim, distribution, what, r.buildSeconds, r.kernel))
      print(String(format: "exact scan: %.3f ms/query (1 thread, %d queries)", r.exactMillisecondsPerQuery, queries))
      print(method == .hnsw ? "   ef  recall@10  ms/query  speed-up" : "rerank recall@10  ms/query  speed-up")
      for p in r.points {
        print(String(format: "%5d  %9.4f  %8.3f  %7.1f×", p.ef, p.recall, p.millisecondsPerQuery, p.speedup))
      }
    }
  }
}
