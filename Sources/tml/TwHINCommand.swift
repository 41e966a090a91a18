import ArgumentParser
import TMLANN
import Foundation
import TMLDistributed
import TMLMetrics
import TMLTrain
import TwHIN

/// `tml twhin …`: heterogeneous graph embeddings.
struct TwHINCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "twhin", abstract: "TwHIN graph embeddings: generate a planted graph, train, evaluate, export, query neighbours.",
    subcommands: [GenerateGraph.self, Train.self, Eval.self, Export.self, Neighbors.self, BuildANN.self])

  struct GenerateGraph: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate-graph",
      abstract: "Write a synthetic graph with planted interest communities (Parquet edges + a ready config).")
    @Option(help: "Output directory.") var out: String = PlantedGraphFiles.defaultDirectory
    @Option(help: "Number of users (authors = users/10, tweets = 3·users/10, communities = users/40).") var users: Int = 4000
    @Option(help: "Random seed.") var seed: UInt64 = 0

    func run() throws {
      guard users >= 40 else { throw ValidationError("--users must be ≥ 40") }
      let config = PlantedGraph.Config(users: users, authors: users / 10, tweets: 3 * users / 10, communities: users / 40, seed: seed)
      let graph = try PlantedGraph(config)
      let files = try PlantedGraphFiles.write(graph, to: URL(fileURLWithPath: out))
      print("planted graph: \(config.users) users, \(config.authors) authors, \(config.tweets) tweets, \(config.communities) communities;")
      print("  \(graph.train.count) training and \(graph.heldOut.count) held-out edges (follow, fav, reply, retweet)")
      for f in files { print("  wrote \(f.relativePath)") }
      let yaml = files.last!.relativePath
      print("train with: tml twhin train --config \(out == PlantedGraphFiles.defaultDirectory ? "configs/twhin/planted.yaml" : yaml)")
    }
  }

  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Train (resuming from the newest checkpoint in the save dir, which is locked meanwhile), then evaluate validation_data.")
    @Option(name: .shortAndLong, help: "The run's YAML config.") var config: String
    @Flag(help: "Leave ${VAR}s that are not set in the environment as written (the original's safe_substitute) instead of failing.") var allowUnsetEnv = false
    @Option(help: "Override training.save_dir.") var saveDir: String?
    @Option(help: "Override training.num_epochs.") var epochs: Int?
    @Option(help: "Override training.num_train_steps.") var steps: Int?
    @Option(help: "Seed for initialisation, shuffling and negatives.") var seed: UInt64 = 0
    @Option(help: "Resume from this checkpoint of the save dir (step_<N>) instead of the newest; newer ones are set aside.") var resumeFrom: String?

    func run() throws {
      let run = try TwHINRun(configPath: config, saveDir: saveDir, epochs: epochs, steps: steps, allowUnsetEnvironment: allowUnsetEnv)
      run.seed = seed
      run.resumeFrom = resumeFrom
      var bar: ProgressBar?
      let bars = WorkProgressBars()
      let handle: (TwHINEvent) -> Void = { event in
        if show(event, on: bars) { return }
        switch event {
        case .loading, .loaded, .evaluating: break
        case .heldOut(let v, let removed): print("held out \(v) validation edges (holdout_fraction); \(removed) removed from training")
        case .plan(let epochs, let perEpoch, let total, let start):
          print("training \(total) steps (\(epochs) epochs × \(perEpoch) batches, capped by num_train_steps)\(start > 0 ? ", from step \(start)" : "")")
          bar = ProgressBar(total: total, label: "train")
        case .training(let t):
          switch t {
          case .resumed(let step, let url): print("resumed at step \(step) from \(url.path)")
          case .warmStarted(let url): print("warm-started from \(url.path)")
          case .progress(let step, _): bar?.update(step)
          case .logged(let step, let v): (bar?.log ?? { print($0) })(TwHINReport.trainLine(step: step, v))
          case .checkpointed(let step, let url): (bar?.log ?? { print($0) })("checkpoint step \(step) → \(url.path)")
          case .skippedRecords(let step, let file): (bar?.log ?? { print($0) })(Report.skippedDuringTraining(step: step, file))
          case .finished(let step, let seconds): bar?.finish(); print(String(format: "finished at step %d in %.1f s", step, seconds))
          case .warning(let w): print("warning: \(w)")
          }
        case .warning(let w): print("warning: \(w)")
        case .evaluated(let step, let m): print(TwHINReport.evaluation(m, title: step == 0 ? "validation at step 0 (random init)" : "validation at step \(step)"))
        case .linkPrediction(let step, let split, let lp): (bar?.log ?? { print($0) })(TwHINReport.linkPrediction(lp, title: "\(split) at step \(step)"))
        case .earlyStopped(let step, let bestStep, let mrr):
          bar?.finish()
          print(String(format: "early stopping at step %d: keeping the model of step %d (validation MRR %.4f)", step, bestStep, mrr))
        }
      }
      // Under mpirun: model-parallel training (docs/distributed.md); rank 0 prints.
      let comm = try Distributed.communicator()
      if comm.isDistributed { print("rank \(comm.rank) of \(comm.worldSize): TwHIN tables sharded round-robin") }
      guard let result = comm.isDistributed ? try run.trainSharded(comm: comm, onEvent: handle) : try run.train(onEvent: handle) else { return }
      if let before = result.initialEvaluation?.allCandidates, let after = result.evaluation.allCandidates {
        print(String(format: "filtered MRR %.4f → %.4f, Hits@10 %.4f → %.4f", before.mrr, after.mrr, before.hits[10] ?? 0, after.hits[10] ?? 0))
      }
      print("logs: \(run.saveDir.appendingPathComponent("metrics.jsonl").relativePath), TensorBoard: \(run.saveDir.appendingPathComponent("tensorboard").relativePath)")
    }
  }

  struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Evaluate a checkpoint on validation_data: filtered MRR, Hits@1/10/50, mean rank, AUC.")
    @Option(name: .shortAndLong, help: "The run's YAML config.") var config: String
    @Flag(help: "Leave ${VAR}s that are not set in the environment as written (the original's safe_substitute) instead of failing.") var allowUnsetEnv = false
    @Option(help: "A save dir (newest step) or a step_<N> checkpoint directory.") var checkpoint: String
    @Option(help: "Seed of the evaluation's sampled negatives.") var seed: UInt64 = 0

    func run() throws {
      let run = try TwHINRun(configPath: config, allowUnsetEnvironment: allowUnsetEnv)
      run.seed = seed
      var testReport: String?
      let bars = WorkProgressBars()
      let m = try run.evaluate(checkpoint: URL(fileURLWithPath: checkpoint)) { event in
        if show(event, on: bars) { return }
        if case .linkPrediction(_, let split, let lp) = event { testReport = TwHINReport.linkPrediction(lp, title: split) }
      }
      print(TwHINReport.evaluation(m, title: "validation (\(checkpoint))"))
      if let testReport { print(testReport) }
    }
  }

  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write each table as <table>.safetensors and <table>.tsv (and the translations, given --config).")
    @Option(help: "A save dir (newest step) or a step_<N> checkpoint directory.") var checkpoint: String
    @Option(help: "Output directory.") var out: String
    @Option(name: .shortAndLong, help: "Optional config: names the translations' relations and maps rows to vocab ids.") var config: String?
    @Flag(help: "Leave ${VAR}s that are not set in the environment as written (the original's safe_substitute) instead of failing.") var allowUnsetEnv = false

    func run() throws {
      var relations: [String]? = nil
      var ids: [String: [Int64]] = [:]
      if let config {
        let run = try TwHINRun(configPath: config, allowUnsetEnvironment: allowUnsetEnv)
        relations = run.schema.relations.map(\.name)
        for (t, v) in zip(run.schema.tables, try run.vocabularies()) { if let v { ids[t.name] = v.idByRow } }
      }
      var bar: ProgressBar?
      let r = try TwHINCheckpointExport.export(checkpoint: URL(fileURLWithPath: checkpoint), to: URL(fileURLWithPath: out),
                                               relations: relations, ids: ids) { done, total in
        if bar == nil { bar = ProgressBar(total: total, label: "TSV rows") }
        bar?.update(done)
      }
      bar?.finish()
      print("exported step \(r.step): " + r.tables.map { "\($0.0) \($0.1.map(String.init).joined(separator: "×"))" }.joined(separator: ", "))
      for f in r.files { print("  \(f.relativePath)") }
    }
  }

  struct Neighbors: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The k best rhs for (lhs, relation) by score ⟨e_lhs, op_r(e_rhs)⟩: an exact scan, or an HNSW index with --ann.")
    @Option(name: .shortAndLong, help: "The run's YAML config.") var config: String
    @Flag(help: "Leave ${VAR}s that are not set in the environment as written (the original's safe_substitute) instead of failing.") var allowUnsetEnv = false
    @Option(help: "A save dir (newest step) or a step_<N> checkpoint directory.") var checkpoint: String
    @Option(help: "Relation name (e.g. fav).") var relation: String
    @Option(help: "The lhs node: its raw id when the table has a vocab, else its row.") var lhs: Int64
    @Option(help: "How many neighbours.") var k: Int = 10
    @Flag(help: "Skip rhs already linked to lhs by this relation in train_data.") var excludeKnown = false
    @Option(help: "TSV with columns table, row, community (e.g. generate-graph's communities.tsv) to annotate the output.") var labels: String?
    @Flag(help: "Search an approximate index instead of scanning every rhs: the checkpoint's HNSW index (tml twhin build-ann), or with --ann-index pq a PQ fast scan built now.") var ann = false
    @Option(help: "With --ann: hnsw (saved by build-ann) or pq (4-bit product-quantisation fast scan, built in memory).") var annIndex: String = "hnsw"
    @Option(help: "With --ann: the search breadth — HNSW's ef, or the rows the PQ scan rescores (larger: closer to the exact answer, slower).") var ef: Int = 100

    func run() throws {
      let run = try TwHINRun(configPath: config, allowUnsetEnvironment: allowUnsetEnv)
      let (model, step, directory) = try run.loadModel(checkpointAt: URL(fileURLWithPath: checkpoint))
      var known: KnownEdges? = nil
      if excludeKnown {
        let bars = WorkProgressBars()
        let data = try run.loadData { _ = show($0, on: bars) }
        known = KnownEdges([data.train.edges])
      }
      let r = try run.schema.relationIndex(named: relation)
      let lhsTable = run.schema.tables[run.schema.lhsTable[r]].name, rhsTable = run.schema.tables[run.schema.rhsTable[r]].name
      var index: TwHINANN? = nil
      if ann {
        index = TwHINANN(model: model)
        switch annIndex {
        case "hnsw": try index!.load(tables: [run.schema.rhsTable[r]], checkpoint: directory)
        case "pq": index!.use(try TwHINANN.buildPQ(model: model, table: run.schema.rhsTable[r]), table: run.schema.rhsTable[r])
        default: throw ValidationError("--ann-index must be hnsw or pq, got \(annIndex)")
        }
      }
      let list = try run.neighbors(model, relation: relation, lhs: lhs, k: k, excluding: known,
                                   search: index.map { i in { row, rel in try i.neighbors(lhs: row, relation: rel, k: k, ef: ef, excluding: known) } })
      let tags = try labels.map(TwHINReport.readLabels) ?? [:]
      let own = tags[lhsTable]?[Int(lhs)]
      print("\(relation) neighbours of \(lhsTable) \(lhs)\(own.map { " (community \($0))" } ?? "") at step \(step)\(excludeKnown ? ", excluding known edges" : "")\(ann ? (annIndex == "pq" ? ", PQ fast scan, \(ef) rescored" : ", HNSW index, ef \(ef)") : ""):")
      for (i, n) in list.enumerated() {
        let tag = tags[rhsTable]?[n.row].map { "  community \($0)\($0 == own ? " ✓" : "")" } ?? ""
        print(String(format: "%3d. %@ %-10lld score %8.4f%@", i + 1, rhsTable, n.id, n.score, tag))
      }
    }
  }
}

/// Draws a TwHIN run's reading and evaluation progress and prints each loaded section;
/// false for other events.
private func show(_ event: TwHINEvent, on bars: WorkProgressBars) -> Bool {
  switch event {
  case .loading(let section, let done, let files):
    if files > 1 { bars.report(WorkProgress("reading \(section)", done: done, total: files, unit: .files)) }
  case .loaded(let section, let e):
    bars.log("\(section): \(e.edges.count) edges from \(e.files.count) file\(e.files.count == 1 ? "" : "s")\(e.skippedUnknownIDs > 0 ? " (\(e.skippedUnknownIDs) skipped: unknown ids)" : "")")
    for f in e.skipped.files { bars.log("  \(f.path): \(f.count) edge\(f.count == 1 ? "" : "s") skipped (unknown_ids: skip); first: \(f.firstError)") }
  case .evaluating(let p): bars.report(p)
  default: return false
  }
  return true
}

/// Console formatting for `tml twhin`.
enum TwHINReport {
  static func trainLine(step: Int, _ v: [String: Double]) -> String {
    let lr = v.filter { $0.key.hasPrefix("learning_rate/") && $0.key != "learning_rate/translations" }.map(\.value).max() ?? 0
    var line = String(format: "step %6d  epoch %5.2f  loss %.5f  %8.0f edges/s  lr %.2e", step, v["epoch"] ?? 0, v["loss"] ?? .nan,
                      v["examples_per_second"] ?? 0, lr)
    for (k, x) in v.sorted(by: { $0.key < $1.key }) where k.hasPrefix("embedding_norm/") {
      line += String(format: "  |%@| %.3f", String(k.dropFirst("embedding_norm/".count)), x)
    }
    return line
  }

  static func evaluation(_ m: TwHINEvaluation, title: String) -> String {
    var lines = [String(format: "%@: loss %.5f, sampled AUC %.4f", title, m.loss, m.sampledAUC)]
    func row(_ name: String, _ r: RankingSummary) -> String {
      "  " + name.padding(toLength: 15, withPad: " ", startingAt: 0)
        + String(format: "%6d edges  MRR %.4f  Hits@1 %.4f  Hits@10 %.4f  Hits@50 %.4f  mean rank %8.2f",
                 r.count, r.mrr, r.hits[1] ?? 0, r.hits[10] ?? 0, r.hits[50] ?? 0, r.meanRank)
    }
    lines.append(row("in-batch", m.inBatch))
    if let a = m.allCandidates { lines.append(row("all candidates", a)) }
    if let lp = m.linkPrediction { lines.append(linkPrediction(lp, title: "  both sides, filtered (every entity)")) }
    return lines.joined(separator: "\n")
  }

  /// Head, tail and both-side filtered MRR and Hits@1/3/10.
  static func linkPrediction(_ lp: LinkPredictionSummary, title: String) -> String {
    var lines = [title + ":"]
    for (name, r) in [("head", lp.head), ("tail", lp.tail), ("both", lp.both)] {
      lines.append("    " + name + String(format: "  %6d ranks  MRR %.4f  Hits@1 %.4f  Hits@3 %.4f  Hits@10 %.4f  mean rank %8.2f",
                                         r.count, r.mrr, r.hits[1] ?? 0, r.hits[3] ?? 0, r.hits[10] ?? 0, r.meanRank))
    }
    return lines.joined(separator: "\n")
  }

  /// table → row → community, from a TSV with a header `table  row  community …`.
  static func readLabels(_ path: String) throws -> [String: [Int: Int]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var out: [String: [Int: Int]] = [:]
    for line in text.split(separator: "\n").dropFirst() {
      let f = line.split(separator: "\t")
      if f.count >= 3, let row = Int(f[1]), let c = Int(f[2]) { out[String(f[0]), default: [:]][row] = c }
    }
    return out
  }
}
