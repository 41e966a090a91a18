import Foundation
import TMLNN
import XCTest

/// One run per save dir: `SaveDirLock` on `save_dir/.lock`.
final class SaveDirLockTests: XCTestCase {
  private var root: URL!

  override func setUpWithError() throws { root = try makeTemporaryDirectory("save-dir-lock") }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

  private var lockFile: URL { root.appendingPathComponent(".lock") }

  /// `/usr/bin/flock -o <save_dir>/.lock sh -c 'echo $PPID > <lock>; …; exec sleep 30'`: a
  /// child that holds the lock (flock(1) takes it, then runs the command — which does not
  /// inherit it, `-o` — as its child) and writes its pid once it does. Returns when the
  /// pid is in the file; `stop` ends both processes.
  private func childHoldingTheLock() throws -> Process {
    let flock = URL(fileURLWithPath: "/usr/bin/flock")
    guard FileManager.default.isExecutableFile(atPath: flock.path) else { throw XCTSkip("no /usr/bin/flock on this system") }
    let child = Process()
    child.executableURL = flock
    let sleeper = root.appendingPathComponent("sleeper.pid").path
    child.arguments = ["-o", lockFile.path, "sh", "-c", "echo $$ > '\(sleeper)'; echo $PPID > '\(lockFile.path)'; exec sleep 30"]
    try child.run()
    let deadline = Date().addingTimeInterval(10)
    while (try? String(contentsOf: lockFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) != "\(child.processIdentifier)" {
      guard Date() < deadline, child.isRunning else { stop(child); throw XCTSkip("flock(1) did not take the lock in 10 s") }
      usleep(10_000)
    }
    return child
  }

  /// Kills the lock holder (SIGKILL: no chance to unlock), then its sleeping command.
  private func stop(_ child: Process) {
    if child.isRunning { kill(child.processIdentifier, SIGKILL) }
    if let text = try? String(contentsOfFile: root.appendingPathComponent("sleeper.pid").path, encoding: .utf8),
       let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
      kill(pid, SIGKILL)
    }
    child.waitUntilExit()
  }

  func testASecondLockOnTheSameSaveDirFailsNamingTheHolder() throws {
    let first = try SaveDirLock(saveDir: root)
    XCTAssertEqual(try String(contentsOf: lockFile, encoding: .utf8), "\(getpid())\n")
    let message = errorMessage("second lock") { try SaveDirLock(saveDir: self.root) }
    assertMentions(message, ["save_dir \(root.path) is in use by pid \(getpid())", "--save-dir"])
    first.unlock()
    XCTAssertNoThrow(try SaveDirLock(saveDir: root), "free again once released")
  }

  func testALockHeldByAnotherProcessFailsNamingItsPid() throws {
    let child = try childHoldingTheLock()
    defer { stop(child) }
    let message = errorMessage("lock held by a child") { try SaveDirLock(saveDir: self.root) }
    assertMentions(message, ["is in use by pid \(child.processIdentifier)", "kill \(child.processIdentifier)"])
  }

  func testALockLeftByAKilledProcessDoesNotBlock() throws {
    let child = try childHoldingTheLock()
    stop(child)
    XCTAssertEqual(try String(contentsOf: lockFile, encoding: .utf8), "\(child.processIdentifier)\n", "the dead run's pid is still in the file")
    let lock = try SaveDirLock(saveDir: root)
    XCTAssertEqual(try String(contentsOf: lockFile, encoding: .utf8), "\(getpid())\n")
    lock.unlock()
  }

  func testALeftoverLockFileWithADeadPidDoesNotBlock() throws {
    let finished = Process()
    finished.executableURL = URL(fileURLWithPath: "/bin/sh")
    finished.arguments = ["-c", "exit 0"]
    try finished.run()
    finished.waitUntilExit()
    try "\(finished.processIdentifier)\n".write(to: lockFile, atomically: true, encoding: .utf8)
    XCTAssertNoThrow(try SaveDirLock(saveDir: root))
  }
}
