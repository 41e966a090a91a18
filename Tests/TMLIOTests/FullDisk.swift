import Foundation
import XCTest

/// Places where every write fails with ENOSPC, for full-disk tests.
enum FullDisk {
  /// `directory/name` as a symbolic link to `/dev/full` (writes through it fail with
  /// "no space left on device"). A link, so code that replaces the file instead of
  /// writing into it cannot replace the device. Always there on Linux; skips elsewhere.
  static func link(in directory: URL, name: String) throws -> String {
    #if os(Linux)
    guard FileManager.default.fileExists(atPath: "/dev/full") else { XCTFail("/dev/full is missing"); throw XCTSkip("no /dev/full") }
    #else
    guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full on this system") }
    #endif
    let path = directory.appendingPathComponent(name).path
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/full")
    return path
  }

  /// Mounts a 64 KiB tmpfs on `directory` (which must exist); skips the test where
  /// mounting is not permitted (not root, no CAP_SYS_ADMIN, not Linux).
  static func mountTmpfs(on directory: URL) throws {
    #if os(Linux)
    guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
    let status = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", directory.path])
    guard status == 0 else { throw XCTSkip("mount -t tmpfs is not permitted here (exit \(status))") }
    #else
    throw XCTSkip("tmpfs mounts are Linux only")
    #endif
  }

  static func unmount(_ directory: URL) { _ = try? run("/bin/umount", [directory.path]) }

  private static func run(_ program: String, _ arguments: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
  }
}
