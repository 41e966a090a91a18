import ArgumentParser
import TMLDistributed

/// `tml distributed …`: checks of an MPI installation or cluster.
struct DistributedCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "distributed", abstract: "Multi-process (MPI) tools; see docs/distributed.md.",
    subcommands: [Check.self])

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run every collective (all-reduce, all-gather, all-to-all, broadcast, barrier) and a row-sharded table and check the results; run it as `mpirun -np N tml distributed check`.")

    func run() throws {
      let comm = try Distributed.communicator()
      let lines = try CollectiveCheck.run(comm) + [try ShardedTableCheck.run(comm)]
      if comm.rank == 0 {
        print("\(comm.worldSize) rank\(comm.worldSize == 1 ? "" : "s") (\(type(of: comm)))")
        for l in lines { print(l) }
      }
    }
  }
}
