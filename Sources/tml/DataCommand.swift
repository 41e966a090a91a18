import ArgumentParser
import ForYou
import Foundation
import TwHIN

/// `tml data`: importers from public dataset formats.
struct DataCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data", abstract: "Import public datasets into SwiftTML's formats.", subcommands: [KG.self, MovieLens.self, SNAP.self])

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
      for f in files { print("  wrote \(f.relativePath)") }
      print("train with: tml twhin train --config \(dir.appendingPathComponent("kg.yaml").relativePath)")
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
      guard let f = RatingLog.Format(rawValue: format) else { throw TwHINError("--format \(format): use auto, 100k, 1m or 25m") }
      guard dim > 0 else { throw TwHINError("--dim \(dim): must be ≥ 1") }
      let log = try RatingLog(path: ratings, format: f)
      let graph = RatingGraphImport(log: log, likedOnly: likedOnly)
      let dir = URL(fileURLWithPath: out)
      let files = try graph.write(to: dir, name: name ?? dir.lastPathComponent, dim: dim)
      print("\(log.count) ratings: \(graph.users.count) users, \(graph.items.count) items; \(graph.train.count) `\(graph.relation)` train edges, \(graph.test.count) test positives (rating ≥ 4, last 20 % per user)")
      for f in files { print("  wrote \(f.relativePath)") }
      print("train with: tml twhin train --config \(dir.appendingPathComponent("movielens.yaml").relativePath)")
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
      for f in files { print("  wrote \(f.relativePath)") }
      print("train with: tml twhin train --config \(dir.appendingPathComponent("snap.yaml").relativePath)")
    }
  }
}
