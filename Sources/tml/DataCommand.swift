import ArgumentParser
import ForYou
import Foundation
import TwHIN

/// `tml data`: importers from public dataset formats.
struct DataCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data", abstract: "Import public datasets into SwiftTML's formats.", subcommands: [KG.self, MovieLens.self, MovieLensEval.self, MovieLensFeedCommand.self, SNAP.self])

  struct KG: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "kg",
      abstract: "Knowledge-graph triples (head<TAB>relation<TAB>tail per line) → Parquet edges, vocabularies and a TwHIN config.")

    @Option(help: "Training triples.") var train: String
    @Option(help: "Validation triples.") var valid: String
    @Option(help: "Test triples.") var test: String
    @Option(help: "Output directory (edges, entities.tsv, relations.tsv, kg.yaml).") var out: String
    @Option(help: "Name used in the config's save_dir (runs/kg_<name>); default: the output folder's name.") var name: String?
    @Option(help: "Relation operator in the config: translation, diagonal or complex.") var `operator`: String = "translation"
    @Option(help: "Embedding dimension in the config.") var dim: Int = 64
    @Flag(help: "Add an inverse relation r_inv with (t, r_inv, h) for every training triple (PBG-style).") var inverse = false

    func run() throws {
      guard let op = TwHINOperator(rawValue: `operator`) else {
        throw TwHINError("--operator \(`operator`): use translation, diagonal or complex")
      }
      guard dim > 0, op != .complex || dim % 2 == 0 else {
        throw TwHINError("--dim \(dim): must be ≥ 1 (and even for the complex operator)")
      }
      let kg = try KnowledgeGraphImport(train: train, valid: valid, test: test, inverse: inverse)
      let dir = URL(fileURLWithPath: out)
      let files = try kg.write(to: dir, name: name ?? dir.lastPathComponent, operator: op, dim: dim)
      print("\(kg.entities.count) entities, \(kg.relations.count) relations\(inverse ? " (with inverses)" : ""); \(kg.train.count) train, \(kg.valid.count) valid, \(kg.test.count) test triples")
      printWritten(files, config: dir.appendingPathComponent("kg.yaml"))
    }
  }

  struct MovieLens: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "movielens",
      abstract: "A MovieLens rating log (u.data, ratings.dat, ratings.csv) → time-split user–item Parquet edges, vocabularies and a TwHIN config.")

    @Option(help: "The rating log: u.data (100k), ratings.dat (1m) or ratings.csv (25m).") var ratings: String
    @Option(help: "Output directory (train/test.parquet, users.tsv, items.tsv, movielens.yaml).") var out: String
    @Option(help: "auto (by file name), 100k, 1m or 25m.") var format: String = "auto"
    @Option(help: "Name used in the config's save_dir; default: the output folder's name.") var name: String?
    @Option(help: "Embedding dimension in the config.") var dim: Int = 64
    @Flag(help: "Train only on ratings ≥ 4 (relation `liked`) instead of every rating (`rated`).") var likedOnly = false
    @Flag(help: "Also write Heavy Ranker tf.Examples (features from each rating's past), segdense.json and ranker.yaml.") var rankerExamples = false

    func run() throws {
      let f = try ratingFormat(format)
      guard dim > 0 else { throw TwHINError("--dim \(dim): must be ≥ 1") }
      let log = try RatingLog(path: ratings, format: f)
      let graph = RatingGraphImport(log: log, likedOnly: likedOnly)
      let dir = URL(fileURLWithPath: out)
      let files = try graph.write(to: dir, name: name ?? dir.lastPathComponent, dim: dim)
      print("\(log.count) ratings: \(graph.users.count) users, \(graph.items.count) items; \(graph.train.count) `\(graph.relation)` train edges, \(graph.test.count) test positives (rating ≥ 4, last 20 % per user)")
      printWritten(files, config: dir.appendingPathComponent("movielens.yaml"))
      if rankerExamples {
        let r = try RatingExamples.write(log, to: dir, name: name ?? dir.lastPathComponent)
        print("ranker examples: \(r.train) train, \(r.test) test under \(dir.appendingPathComponent("examples").relativePath); train with: tml recap train --config \(r.config)")
      }
    }
  }

  struct SNAP: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "snap", abstract: "A SNAP edge list (src dst per line, # comments) → Parquet edges, a node vocabulary and a TwHIN config.")

    @Option(help: "The edge list.") var edges: String
    @Option(help: "Output directory (train.parquet, nodes.tsv, snap.yaml).") var out: String
    @Option(help: "Name used in the config's save_dir; default: the output folder's name.") var name: String?
    @Option(help: "Embedding dimension in the config.") var dim: Int = 64

    func run() throws {
      guard dim > 0 else { throw TwHINError("--dim \(dim): must be ≥ 1") }
      let graph = try SNAPImport(path: edges)
      let dir = URL(fileURLWithPath: out)
      let files = try graph.write(to: dir, name: name ?? dir.lastPathComponent, dim: dim)
      print("\(graph.nodes.count) nodes, \(graph.edges.count) edges")
      printWritten(files, config: dir.appendingPathComponent("snap.yaml"))
    }
  }

  struct MovieLensEval: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "movielens-eval",
      abstract: "Top-k recommendation on a MovieLens log's time split: Recall@k and NDCG@k of popularity, BPR and (optionally) a trained TwHIN.")

    @Option(help: "The rating log (as given to `tml data movielens`).") var ratings: String
    @Option(help: "auto (by file name), 100k, 1m or 25m.") var format: String = "auto"
    @Option(help: "Cut-off k.") var k: Int = 10
    @Option(help: "BPR embedding dimension.") var bprDim: Int = 64
    @Option(help: "BPR epochs (each samples as many triples as there are training ratings); 0 skips BPR.") var bprEpochs: Int = 30
    @Option(help: "BPR SGD learning rate.") var bprLr: Float = 0.05
    @Option(help: "BPR L2 weight λ.") var bprLambda: Float = 0.01
    @Option(help: "Seed of BPR's initialisation and sampling.") var seed: UInt64 = 0
    @Option(help: "The TwHIN config written by `tml data movielens` (with --checkpoint).") var twhinConfig: String?
    @Option(help: "A TwHIN save dir (newest step) or step_<N> checkpoint trained on that config.") var checkpoint: String?
    @Option(help: "Write TwHIN's top --candidates items of each test user as ranker examples to this .tfrecord.gz (with --checkpoint).") var writeCandidates: String?
    @Option(help: "Candidates per test user for --write-candidates.") var candidates: Int = 200
    @Option(help: "A `tml recap predict` TSV of those candidates: also evaluate them ranked by is_liked probability.") var rerank: String?

    func run() throws {
      let f = try ratingFormat(format)
      guard k > 0, bprDim > 0, bprEpochs >= 0 else { throw TwHINError("--k and --bpr-dim must be ≥ 1, --bpr-epochs ≥ 0") }
      guard (twhinConfig == nil) == (checkpoint == nil) else { throw TwHINError("--twhin-config and --checkpoint go together; pass both or neither") }
      guard writeCandidates == nil || checkpoint != nil else {
        throw TwHINError("--write-candidates needs --twhin-config and --checkpoint (the candidates are TwHIN's top items)")
      }
      guard candidates > 0 else { throw TwHINError("--candidates \(candidates): must be ≥ 1") }
      let log = try RatingLog(path: ratings, format: f)
      let task = RecommendationTask(log: log)
      print("\(task.users.count) users, \(task.items.count) items, \(task.trainPairs.count) training ratings; \(task.testUsers.count) test users, \(task.positives.reduce(0) { $0 + $1.count }) held-out positives (rating ≥ 4)")
      func report(_ name: String, _ r: TopKResult, _ seconds: Double) {
        print("\(name.padding(toLength: 12, withPad: " ", startingAt: 0))  Recall@\(k) \(String(format: "%.4f", r.recall))  NDCG@\(k) \(String(format: "%.4f", r.ndcg))  (\(String(format: "%.1f", seconds)) s)")
      }
      var clock = Date()
      report("popularity", try TopKEvaluation.evaluate(task, k: k, fixed: TopKEvaluation.popularity(task)), Date().timeIntervalSince(clock))
      if bprEpochs > 0 {
        clock = Date()
        var bpr = BPR(users: task.users.count, items: task.items.count, dim: bprDim, seed: seed)
        bpr.train(task, epochs: bprEpochs, learningRate: bprLr, lambda: bprLambda)
        report("BPR", try bpr.evaluate(task, k: k), Date().timeIntervalSince(clock))
      }
      if let twhinConfig, let checkpoint {
        clock = Date()
        let run = try TwHINRun(configPath: twhinConfig)
        let (model, step) = try run.loadModel(checkpoint: URL(fileURLWithPath: checkpoint))
        report("TwHIN@\(step)", try TopKEvaluation.evaluate(task, k: k, twhin: model), Date().timeIntervalSince(clock))
        if let writeCandidates {
          let n = try RatingExamples.writeCandidates(log, task: task, candidates: try RankerReranking.candidates(task, twhin: model, n: candidates), to: writeCandidates)
          print("wrote \(n) candidate examples (top \(candidates) of TwHIN per test user) to \(writeCandidates); score with: tml recap predict --config <ranker.yaml> --checkpoint <ranker save dir> --input \(writeCandidates) --output <predictions.tsv>")
        }
      }
      if let rerank {
        clock = Date()
        report("ranker", try RankerReranking.evaluate(task, k: k, scores: try RankerReranking.scores(predictions: rerank, task: task)), Date().timeIntervalSince(clock))
      }
    }
  }
}

/// Lists an importer's files and the command that trains on its TwHIN config.
private func printWritten(_ files: [URL], config: URL) {
  for f in files { print("  wrote \(f.relativePath)") }
  print("train with: tml twhin train --config \(config.relativePath)")
}

/// The `--format` option of the MovieLens commands.
func ratingFormat(_ option: String) throws -> RatingLog.Format {
  guard let f = RatingLog.Format(rawValue: option) else { throw TwHINError("--format \(option): use auto, 100k, 1m or 25m") }
  return f
}
