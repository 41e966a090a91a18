import ArgumentParser

/// `tml` — the SwiftTML command line: a thin layer over the libraries.
struct TML: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tml",
    abstract: "SwiftTML: Twitter's Heavy Ranker and TwHIN, trained and served on any CPU.",
    subcommands: [Demo.self, RecapCommand.self, TwHINCommand.self, DataCommand.self, Bench.self])
}

TML.main()
