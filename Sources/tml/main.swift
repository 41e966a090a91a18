import ArgumentParser
import Foundation
import TMLIO

/// `tml` — the SwiftTML command line: a thin layer over the libraries.
struct TML: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tml",
    abstract: "SwiftTML: Twitter's Heavy Ranker and TwHIN, trained and served on any CPU.",
    subcommands: [Demo.self, RecapCommand.self, TwHINCommand.self, DataCommand.self, Bench.self])
}

// As `TML.main()`, but a Foundation file error prints as one line `Error: <path>: <reason>`
// (not "Error Domain=NSCocoaErrorDomain Code=…"), and output that could not be written to
// standard output (e.g. redirected to a full disk) is an error too. Errors exit with 1.
do {
  var command = try TML.parseAsRoot()
  try command.run()
  if fflush(stdout) != 0 { throw FileError(path: "standard output", errno: errno) }
  if ferror(stdout) != 0 { throw FileError(path: "standard output", reason: "some output could not be written") }
} catch {
  TML.exit(withError: FileError.from(error))
}
