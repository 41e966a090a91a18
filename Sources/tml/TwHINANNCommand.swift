import ArgumentParser
import Foundation
import TMLANN
import TwHIN

extension TwHINCommand {
  /// `tml twhin build-ann`: HNSW indexes over a checkpoint's tables, saved in its ann/ folder.
  struct BuildANN: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "build-ann",
      abstract: "Build HNSW indexes (hnswlib) over a checkpoint's tables for `neighbors --ann` and `tml serve`; saved as <step_N>/ann/<table>.hnsw + .json.")
    @Option(name: .shortAndLong, help: "The run's YAML config.") var config: String
    @Flag(help: "Leave ${VAR}s that are not set in the environment as written (the original's safe_substitute) instead of failing.") var allowUnsetEnv = false
    @Option(help: "A save dir (newest step) or a step_<N> checkpoint directory.") var checkpoint: String
    @Option(help: "The table to index (default: every table that is the rhs of a relation).") var table: String?
    @Option(help: "HNSW links per node and layer (2·m on layer 0).") var m: Int = 16
    @Option(help: "Candidate list length while inserting.") var efConstruction: Int = 200
    @Option(help: "Seed of the layer draws.") var seed: UInt64 = 100
    @Option(help: "Inserting threads (1: the same graph every time; default: all cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
      let run = try TwHINRun(configPath: config, allowUnsetEnvironment: allowUnsetEnv)
      let (model, step, directory) = try run.loadModel(checkpointAt: URL(fileURLWithPath: checkpoint))
      let schema = run.schema
      let tables: [Int]
      if let table {
        guard let t = schema.tables.firstIndex(where: { $0.name == table }) else {
          throw ValidationError("--table \(table): no such table; the config has \(schema.tables.map(\.name).joined(separator: ", "))")
        }
        tables = [t]
      } else {
        tables = Array(Set(schema.rhsTable)).sorted()
      }
      let parameters = HNSWParameters(m: m, efConstruction: efConstruction, seed: seed)
      for t in tables {
        let name = schema.tables[t].name, rows = schema.tables[t].numEmbeddings
        let bar = ProgressBar(total: rows, label: "indexing \(name)")
        let start = Date()
        let (index, crc) = try TwHINANN.build(model: model, table: t, parameters: parameters, threads: threads) { done, _ in bar.update(done) }
        bar.finish()
        try ANNIndexFile.write(index, table: name, parameters: parameters, tableCRC32C: crc, checkpoint: directory)
        let path = ANNIndexFile.paths(checkpoint: directory, table: name).index.path
        print(String(format: "%@: %d rows × %d, m %d, ef_construction %d, %.1f s (%@ kernel) → %@",
                     name, rows, model.dim, m, efConstruction, Date().timeIntervalSince(start), HNSWIndex.kernel, path))
      }
      print("step \(step)")
    }
  }
}
