import ArgumentParser
import Foundation
import TwHIN

/// `tml data`: importers from public dataset formats.
struct DataCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data", abstract: "Import public datasets into SwiftTML's formats.", subcommands: [KG.self])

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
}
