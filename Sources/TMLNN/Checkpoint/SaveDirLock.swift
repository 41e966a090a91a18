import Foundation
import TMLIO
import TMLTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exclusive ownership of a save dir for one run: `flock(LOCK_EX | LOCK_NB)` on
/// `save_dir/.lock`, with the holder's pid written into the file. A second run in the
/// same save dir fails at once with the holder's pid instead of interleaving its
/// checkpoints and logs with the first.
///
/// The kernel drops the lock when its process exits, however it exits, so a `.lock`
/// file left by a killed run (a dead pid) never blocks: it is simply locked again. The
/// file itself is never removed (removing it would let two runs lock two different
/// files of the same name). Locks are per open file, so a second lock on the same save
/// dir fails within one process too.
///
///     let lock = try SaveDirLock(saveDir: url)   // throws "save_dir … is in use by pid N …"
///     defer { lock.unlock() }
public final class SaveDirLock {
  public let url: URL
  private var fd: Int32

  public init(saveDir: URL) throws {
    url = saveDir.appendingPathComponent(".lock")
    do { try FileManager.default.createDirectory(at: saveDir, withIntermediateDirectories: true) } catch {
      throw TensorError("save_dir \(saveDir.path): cannot create it (\(FileError.reason(of: error))); check the path and permissions")
    }
    fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw TensorError("save_dir \(saveDir.path): cannot open \(url.lastPathComponent) to lock it (\(String(cString: strerror(errno)))); check the permissions")
    }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      let code = errno
      let holder = SaveDirLock.readPID(fd)
      close(fd)
      fd = -1
      if code == EWOULDBLOCK {
        let who = holder.map { "pid \($0)" } ?? "another process"
        throw TensorError("save_dir \(saveDir.path) is in use by \(who) (\(url.path) is locked by a run that writes there); wait for it to finish or stop it\(holder.map { " (kill \($0))" } ?? ""), or pass another --save-dir")
      }
      throw TensorError("save_dir \(saveDir.path): cannot lock \(url.path) (\(String(cString: strerror(code)))); use a save dir on a local file system")
    }
    let text = Array("\(getpid())\n".utf8)
    guard ftruncate(fd, 0) == 0, text.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == text.count else {
      let code = errno
      unlock()
      throw TensorError("save_dir \(saveDir.path): cannot write the pid into \(url.path) (\(String(cString: strerror(code)))); check free disk space")
    }
  }

  deinit { unlock() }

  /// Releases the lock (also done when the object goes away or the process exits).
  public func unlock() {
    guard fd >= 0 else { return }
    _ = flock(fd, LOCK_UN)
    close(fd)
    fd = -1
  }

  /// The pid written in the lock file, if it holds one.
  static func readPID(_ fd: Int32) -> Int32? {
    var buffer = [UInt8](repeating: 0, count: 32)
    let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    guard n > 0 else { return nil }
    return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
  }
}
