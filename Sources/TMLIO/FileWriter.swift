import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for writing with POSIX `open`/`write`/`close`: every write, sync and
/// close either completes or throws a `FileError` naming the path and the reason —
/// `out.tsv: no space left on device` — never a trap (as `FileHandle.write(_:)` does).
/// Interrupted calls (`EINTR`) are retried and short writes continued until every byte
/// is written. Unbuffered: each `write` reaches the kernel before it returns, so a
/// killed process keeps everything written.
///
///     let out = try FileWriter(path: "preds.tsv")            // created or truncated
///     try out.write("id\tscore\n")
///     try out.close()
///     let log = try FileWriter(path: "metrics.jsonl", mode: .append)
public final class FileWriter {
  public enum Mode: Sendable {
    /// Create the file, or empty it when it exists.
    case truncate
    /// Create the file, or write after its end when it exists.
    case append
  }

  public let path: String
  /// Bytes written through this writer.
  public private(set) var bytesWritten = 0
  private var fd: Int32

  /// Opens `path` (created with permissions 0644 less the umask when missing).
  public init(path: String, mode: Mode = .truncate) throws {
    self.path = path
    let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (mode == .append ? O_APPEND : O_TRUNC)
    var opened: Int32
    repeat { opened = open(path, flags, 0o644) } while opened < 0 && errno == EINTR
    guard opened >= 0 else {
      let code = errno
      throw FileError(path: path, reason: "cannot open for writing (\(FileError.reason(errno: code)))", code: code)
    }
    fd = opened
  }

  deinit { if fd >= 0 { _ = systemClose(fd) } }

  /// Writes all of `bytes`.
  public func write(_ bytes: UnsafeRawBufferPointer) throws {
    guard fd >= 0 else { throw FileError(path: path, reason: "written after close") }
    guard var p = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
      let n = systemWrite(fd, p, left)
      if n < 0 {
        if errno == EINTR { continue }
        throw FileError(path: path, errno: errno)
      }
      // write(2) returns 0 only for a zero-length request; treat it as a full device.
      guard n > 0 else { throw FileError(path: path, errno: ENOSPC) }
      p += n
      left -= n
      bytesWritten += n
    }
  }

  public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

  public func write(_ data: Data) throws { try data.withUnsafeBytes { try write($0) } }

  /// Writes `text` as UTF-8.
  public func write(_ text: String) throws {
    var text = text
    try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
  }

  /// Flushes the file to the storage device (`fsync`). Files that cannot be synced
  /// (pipes, terminals, character devices) are accepted as they are.
  public func synchronize() throws {
    guard fd >= 0 else { throw FileError(path: path, reason: "synchronized after close") }
    while fsync(fd) != 0 {
      switch errno {
      case EINTR: continue
      case EINVAL, EROFS, ENOTSUP: return  // not a file that can be synced
      default: throw FileError(path: path, errno: errno)
      }
    }
  }

  /// Closes the file (once; later calls do nothing). Errors the file system reports
  /// only at close (e.g. on network file systems) are thrown.
  public func close() throws {
    guard fd >= 0 else { return }
    let rc = systemClose(fd)
    fd = -1
    // The descriptor is released even when close reports EINTR (Linux, POSIX 2024); do not retry.
    if rc != 0 && errno != EINTR { throw FileError(path: path, errno: errno) }
  }

  /// Creates or truncates `path` and writes `text` to it (UTF-8).
  public static func write(_ text: String, toFile path: String) throws {
    let out = try FileWriter(path: path)
    try out.write(text)
    try out.close()
  }
}

private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
  #if canImport(Glibc)
  Glibc.write(fd, p, n)
  #else
  Darwin.write(fd, p, n)
  #endif
}

private func systemClose(_ fd: Int32) -> Int32 {
  #if canImport(Glibc)
  Glibc.close(fd)
  #else
  Darwin.close(fd)
  #endif
}
