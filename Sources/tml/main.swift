import ArgumentParser
import Foundation
import TMLDistributed
import TMLIO

/// `tml` — the SwiftTML command line: a thin layer over the libraries.
struct TML: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tml",
    abstract: "SwiftTML: Twitter's Heavy Ranker and TwHIN, trained and served on any CPU.",
    subcommands: [Demo.self, RecapCommand.self, TwHINCommand.self, DataCommand.self, Bench.self, DistributedCommand.self, Serve.self])
}

// As `TML.main()`, but a Foundation file error prints as one line `Error: <path>: <reason>`
// (not "Error Domain=NSCocoaErrorDomain Code=…"), and output that could not be written to
// standard output (e.g. redirected to a full disk) is an error too. Errors exit with 1.
// Under mpirun an error ends the whole job (MPI_Abort) with a message naming the rank, so
// no other rank waits forever in a collective.
/// Commands that split their work over the ranks of an `mpirun` job. Every other command
/// refuses to start as one of several ranks: N copies would race on the same outputs.
protocol RunsUnderMPI {}
extension RecapCommand.Train: RunsUnderMPI {}
extension RecapCommand.Eval: RunsUnderMPI {}
extension TwHINCommand.Train: RunsUnderMPI {}
extension DistributedCommand.Check: RunsUnderMPI {}
extension Bench.DistributedModel: RunsUnderMPI {}

do {
  var command = try TML.parseAsRoot()
  let ranks = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] ?? "") ?? 1
  if Distributed.launchedByMPI(), ranks > 1, !(command is RunsUnderMPI) {
    throw DistributedError("this command runs in one process, but it was started as one of \(ranks) mpirun ranks; start it without mpirun (under mpirun: tml recap train/eval, tml twhin train, tml distributed check)")
  }
  try command.run()
  if fflush(stdout) != 0 { throw FileError(path: "standard output", errno: errno) }
  if ferror(stdout) != 0 { throw FileError(path: "standard output", reason: "some output could not be written") }
  Distributed.finalize()
} catch {
  if let comm = MPICommunicator.started, comm.worldSize > 1, TML.exitCode(for: error) != .success {
    fflush(stdout)
    comm.abort("\(FileError.from(error))", code: 1)
  }
  Distributed.finalize()
  TML.exit(withError: FileError.from(error))
}
