import Foundation

/// How this process was launched: under `mpirun` (Open MPI sets `OMPI_COMM_WORLD_SIZE`;
/// PMIx launchers set `PMIX_RANK`) it joins MPI_COMM_WORLD, otherwise it is a world of
/// one and MPI is never initialised — `tml` without `mpirun` behaves exactly as before.
///
///     let comm = try Distributed.communicator()   // SingleProcessCommunicator or MPICommunicator
///     if comm.rank == 0 { print("logging") }
public enum Distributed {
  /// True when the environment says this process is one rank of an MPI job.
  public static func launchedByMPI(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
    environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
  }

  nonisolated(unsafe) private static var single: SingleProcessCommunicator?

  /// The communicator of this process (the same object on every call).
  public static func communicator() throws -> any Communicator {
    if launchedByMPI() { return try MPICommunicator.world() }
    if let single { return single }
    let s = SingleProcessCommunicator()
    single = s
    return s
  }

  /// Call before the process exits: ends MPI if it was started.
  public static func finalize() { MPICommunicator.finalizeIfStarted() }
}

extension Communicator {
  /// Throws when this is one rank of several: for commands that write one output and are
  /// not split over ranks.
  public func requireSingleProcess(_ command: String) throws {
    guard worldSize > 1 else { return }
    throw DistributedError("\(command) runs in one process; start it without mpirun (only train and eval are split over ranks)")
  }
}

extension Distributed {
  /// Ranks of this job (`OMPI_COMM_WORLD_SIZE`, or 1 when not launched by Open MPI),
  /// known before MPI is initialised.
  public static func launchedWorldSize(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
    max(1, Int(environment["OMPI_COMM_WORLD_SIZE"] ?? "") ?? 1)
  }

  /// Ranks of this job on this machine (`OMPI_COMM_WORLD_LOCAL_SIZE`, or 1 when not set).
  public static func ranksOnThisMachine(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
    max(1, Int(environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1)
  }

  /// Compute threads for one rank: this machine's cores shared among its ranks (at least 1),
  /// so `mpirun -np 2` on 2 cores runs 1 thread per rank instead of 2 + 2.
  public static func threadsPerRank(cores: Int = ProcessInfo.processInfo.activeProcessorCount,
                                    _ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
    max(1, cores / ranksOnThisMachine(environment))
  }
}
