import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts `mpirun -np N <program> <arguments>` on this machine (loopback) and waits for it
/// with a deadline — used by `tml bench distributed` and the multi-rank tests. Adds
/// `--oversubscribe` (more ranks than cores is fine for tests) and, when running as root,
/// `--allow-run-as-root`. A job still running at the deadline is killed and reported as a
/// hang, so a broken collective fails instead of blocking.
///
///     let r = try MPILauncher.run(ranks: 2, program: tml, arguments: ["distributed", "check"])
///     print(r.status, r.output)
public enum MPILauncher {
  public struct Result {
    public var status: Int32
    /// Standard output and standard error of all ranks, interleaved as mpirun forwards them.
    public var output: String
    public var seconds: Double
  }

  /// `mpirun` on PATH, or nil.
  public static func mpirun() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
      let candidate = "\(dir)/mpirun"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// mpirun's flags for a job of `ranks` processes on this machine.
  public static func arguments(ranks: Int) -> [String] {
    var a = ["-np", "\(ranks)", "--oversubscribe", "--bind-to", "none"]
    if getuid() == 0 { a.append("--allow-run-as-root") }
    return a
  }

  public static func run(ranks: Int, program: String, arguments: [String], environment: [String: String] = [:],
                         timeout: Double = 300) throws -> Result {
    guard let mpirun = mpirun() else {
      throw DistributedError("mpirun is not on PATH; install Open MPI (bash scripts/install-deps.sh: libopenmpi-dev openmpi-bin, or brew install open-mpi)")
    }
    return try run(command: mpirun, arguments: Self.arguments(ranks: ranks) + [program] + arguments, environment: environment, timeout: timeout,
                   label: "mpirun -np \(ranks) \(program) \(arguments.joined(separator: " "))")
  }

  static func run(command: String, arguments: [String], environment: [String: String], timeout: Double, label: String,
                  directory: URL? = nil) throws -> Result {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: command)
    p.arguments = arguments
    if let directory { p.currentDirectoryURL = directory }
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("mpirun-\(UUID().uuidString).log")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: out) }
    let handle = try FileHandle(forWritingTo: out)
    p.standardOutput = handle
    p.standardError = handle
    p.standardInput = FileHandle.nullDevice
    let start = Date()
    try p.run()
    let done = DispatchSemaphore(value: 0)
    p.terminationHandler = { _ in done.signal() }
    if done.wait(timeout: .now() + timeout) == .timedOut {
      p.terminate()
      _ = done.wait(timeout: .now() + 10)
      if p.isRunning { kill(p.processIdentifier, SIGKILL) }
      try? handle.close()
      let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
      throw DistributedError("\(label) did not finish in \(Int(timeout)) s (a hang); output:\n\(text)")
    }
    try? handle.close()
    let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
    return Result(status: p.terminationStatus, output: text, seconds: Date().timeIntervalSince(start))
  }
}

extension MPILauncher {
  /// `program arguments` as one plain process (no mpirun), with the same deadline and output
  /// capture, in `directory` when given (else this process's).
  public static func runSingle(program: String, arguments: [String], directory: URL? = nil, timeout: Double = 300) throws -> Result {
    try run(command: program, arguments: arguments, environment: [:], timeout: timeout, label: program, directory: directory)
  }
}

extension MPILauncher {
  /// One rank per element of `environments`, each running `program arguments` with those
  /// extra variables (`mpirun … -np 1 env K=V program … : -np 1 env …`): ranks that see
  /// different settings, as machines with different files would.
  public static func run(environments: [[String: String]], program: String, arguments: [String], timeout: Double = 300) throws -> Result {
    try run(commands: environments.map { env in ["/usr/bin/env"] + env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [program] + arguments },
            timeout: timeout, label: "mpirun (\(environments.count) ranks) \(program)")
  }

  /// One rank per element of `commands`, each the argv of that rank's program
  /// (`mpirun … -np 1 a … : -np 1 b …`, MPI's multiple-program form).
  public static func run(commands: [[String]], timeout: Double = 300, label: String? = nil) throws -> Result {
    guard let mpirun = mpirun() else {
      throw DistributedError("mpirun is not on PATH; install Open MPI (bash scripts/install-deps.sh: libopenmpi-dev openmpi-bin, or brew install open-mpi)")
    }
    var args = Array(Self.arguments(ranks: 1).dropFirst(2))
    for (i, argv) in commands.enumerated() {
      if i > 0 { args.append(":") }
      args += ["-np", "1"] + argv
    }
    return try run(command: mpirun, arguments: args, environment: [:], timeout: timeout, label: label ?? "mpirun (\(commands.count) ranks)")
  }
}
