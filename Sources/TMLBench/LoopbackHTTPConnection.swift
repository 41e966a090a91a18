import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One keep-alive HTTP/1.1 connection to a server on 127.0.0.1, blocking, for load
/// generation: `post` writes the request and reads the response (status line, headers,
/// `Content-Length` body). A benchmark thread owns one connection.
public final class LoopbackHTTPConnection {
  private let fd: Int32
  private let port: Int
  private var buffer: [UInt8] = []

  public struct ConnectionError: Error, CustomStringConvertible {
    public let description: String
  }

  public init(port: Int) throws {
    #if canImport(Glibc)
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw ConnectionError(description: "socket: \(String(cString: strerror(errno)))") }
    self.port = port
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw ConnectionError(description: "connect 127.0.0.1:\(port): \(reason)")
    }
  }

  deinit { close(fd) }

  /// POSTs `body` to `path`; returns the status and the response body.
  public func post(path: String, contentType: String, body: [UInt8]) throws -> (status: Int, body: [UInt8]) {
    let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n"
    try writeAll(Array(head.utf8))
    try writeAll(body)
    return try readResponse()
  }

  private func writeAll(_ bytes: [UInt8]) throws {
    var sent = 0
    try bytes.withUnsafeBytes { p in
      while sent < p.count {
        let n = send(fd, p.baseAddress! + sent, p.count - sent, Int32(MSG_NOSIGNAL))
        guard n > 0 else { throw ConnectionError(description: "send: \(String(cString: strerror(errno)))") }
        sent += n
      }
    }
  }

  private func fill() throws {
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
    guard n > 0 else { throw ConnectionError(description: n == 0 ? "the server closed the connection" : "recv: \(String(cString: strerror(errno)))") }
    buffer += chunk[0..<n]
  }

  private func readResponse() throws -> (status: Int, body: [UInt8]) {
    let terminator: [UInt8] = [13, 10, 13, 10]
    var headerEnd: Int? = nil
    var searched = 0
    while headerEnd == nil {
      if buffer.count >= 4 {
        for i in max(0, searched - 3)...(buffer.count - 4) where buffer[i] == 13 && Array(buffer[i..<(i + 4)]) == terminator {
          headerEnd = i
          break
        }
        searched = buffer.count
      }
      if headerEnd == nil { try fill() }
    }
    let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
    let lines = head.components(separatedBy: "\r\n")
    let parts = lines[0].split(separator: " ")
    guard parts.count >= 2, let status = Int(parts[1]) else { throw ConnectionError(description: "bad status line: \(lines[0])") }
    guard let lengthLine = lines.dropFirst().first(where: { $0.lowercased().hasPrefix("content-length:") }),
          let length = Int(lengthLine.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else {
      throw ConnectionError(description: "response without Content-Length: \(head)")
    }
    let bodyStart = headerEnd! + 4
    while buffer.count < bodyStart + length { try fill() }
    let body = Array(buffer[bodyStart..<(bodyStart + length)])
    buffer.removeFirst(bodyStart + length)
    return (status, body)
  }
}
