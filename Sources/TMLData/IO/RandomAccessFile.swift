#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Positional reads (`pread`) from a file opened read-only, for formats whose
/// index lives at the end (Parquet). Reads never move a shared file position,
/// so one instance may serve several threads.
public final class RandomAccessFile: @unchecked Sendable {
  public let path: String
  /// File size in bytes when opened.
  public let size: Int
  private let fd: Int32

  public init(path: String) throws {
    self.path = path
    fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw DataError("\(path): cannot open for reading (\(String(cString: strerror(errno)))); check the path and permissions")
    }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let msg = String(cString: strerror(errno))
      close(fd)
      throw DataError("\(path): cannot stat (\(msg))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      throw DataError("\(path): not a regular file; pass the path of a data file")
    }
    size = Int(st.st_size)
  }

  deinit { close(fd) }

  /// Reads `count` bytes starting at `offset`; throws if any of them lie past the end of the file.
  public func read(offset: Int, count: Int) throws -> [UInt8] {
    guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
      throw DataError("\(path): read of \(count) bytes at byte offset \(offset) runs past the end of the file (\(size) bytes); the file is truncated or its index is corrupt")
    }
    if count == 0 { return [] }
    var out = [UInt8](repeating: 0, count: count)
    var done = 0
    try out.withUnsafeMutableBytes { buf in
      guard let base = buf.baseAddress else { return }
      while done < count {
        let n = pread(fd, base + done, count - done, off_t(offset + done))
        if n > 0 { done += n; continue }
        if n < 0 && errno == EINTR { continue }
        let why = n == 0 ? "file shrank while reading" : String(cString: strerror(errno))
        throw DataError("\(path): read failed at byte offset \(offset + done) (\(why))")
      }
    }
    return out
  }
}
