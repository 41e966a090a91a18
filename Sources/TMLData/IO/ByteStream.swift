import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A forward-only source of bytes (a file, or a gzip stream over one).
public protocol ByteStream: AnyObject {
  /// Reads up to `count` bytes into `buffer`; returns 0 only at the end.
  func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int
  var path: String { get }
}

extension ByteStream {
  /// Reads exactly `count` bytes unless the stream ends first; returns how many were read.
  public func readFully(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
    var done = 0
    while done < count {
      let n = try read(into: buffer + done, count: count - done)
      if n == 0 { break }
      done += n
    }
    return done
  }
}

/// Unbuffered reads from a file descriptor (buffering is done by the consumers).
public final class FileByteStream: ByteStream {
  public let path: String
  private let fd: Int32
  /// Bytes read from the file so far.
  public private(set) var bytesRead = 0

  public init(path: String) throws {
    self.path = path
    fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw DataError("\(path): cannot open for reading (\(String(cString: strerror(errno)))); check the path and permissions")
    }
  }

  deinit { close(fd) }

  public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
    while true {
      #if canImport(Glibc)
      let n = Glibc.read(fd, buffer, count)
      #else
      let n = Darwin.read(fd, buffer, count)
      #endif
      if n >= 0 { bytesRead += n; return n }
      if errno == EINTR { continue }
      throw DataError("\(path): read failed (\(String(cString: strerror(errno))))")
    }
  }

  /// True when the file starts with the gzip magic bytes 1f 8b.
  public static func isGzip(path: String) -> Bool {
    guard let h = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? h.close() }
    let magic = h.readData(ofLength: 2)
    return magic.count == 2 && magic[magic.startIndex] == 0x1F && magic[magic.startIndex + 1] == 0x8B
  }
}
