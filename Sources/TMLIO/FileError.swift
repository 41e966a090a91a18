import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file operation that failed, as one line `<path>: <reason>`, the reason in
/// `strerror` words ("no space left on device", "permission denied", …).
///
/// `FileError(error, path:)` turns what Foundation throws (`CocoaError`, `POSIXError`, or
/// an `NSError` of those domains, e.g. from `Data(contentsOf:)`, `String.write(to:)`,
/// `FileManager`) into the same one line, using the path and the underlying POSIX error
/// the Foundation error carries; other errors pass through `FileError.from` unchanged.
///
///     throw FileError(path: "preds.tsv", errno: ENOSPC)     // preds.tsv: no space left on device
///     catch { throw FileError.from(error, path: url.path) }  // not "Error Domain=NSCocoaErrorDomain Code=640 …"
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file (or directory) the operation was on.
  public let path: String
  /// What went wrong, lower case, without the path.
  public let reason: String
  /// The POSIX error number, when known.
  public let code: Int32?

  public init(path: String, reason: String, code: Int32? = nil) {
    self.path = path
    self.reason = reason
    self.code = code
  }

  /// The error `errno` (e.g. `ENOSPC`) at `path`.
  public init(path: String, errno code: Int32) {
    self.init(path: path, reason: FileError.reason(errno: code), code: code)
  }

  /// A Foundation file error as a `FileError`: at the path the error names, else `path`;
  /// nil when `error` is not a Foundation file error (or names no path and none is given).
  public init?(_ error: Error, path: String? = nil) {
    if let e = error as? FileError {
      self = e
      return
    }
    guard let (code, domainIsPOSIX, info) = FileError.foundationParts(error) else { return nil }
    let named = (info[NSFilePathErrorKey] as? String) ?? (info[NSURLErrorKey] as? URL)?.path
    guard let at = named ?? path else { return nil }
    if domainIsPOSIX {
      self.init(path: at, errno: Int32(truncatingIfNeeded: code))
    } else if let underlying = info[NSUnderlyingErrorKey], let (errno, isPOSIX, _) = FileError.foundationParts(underlying), isPOSIX {
      self.init(path: at, errno: Int32(truncatingIfNeeded: errno))
    } else {
      self.init(path: at, reason: FileError.reason(cocoaCode: code), code: nil)
    }
  }

  public var description: String { "\(path): \(reason)" }

  /// `error` as a `FileError` when it is a Foundation file error, else `error` itself.
  public static func from(_ error: Error, path: String? = nil) -> Error { FileError(error, path: path) ?? error }

  /// One line for any error: Foundation file errors as `<path>: <reason>`, others by
  /// their description.
  public static func message(_ error: Error, path: String? = nil) -> String {
    FileError(error, path: path)?.description ?? String(describing: error)
  }

  /// What went wrong in `error`, without the path: a Foundation file error's reason
  /// ("no such file or directory"), else the error's description.
  public static func reason(of error: Error) -> String {
    FileError(error, path: "")?.reason ?? String(describing: error)
  }

  /// `strerror(code)` starting lower case: "no space left on device".
  public static func reason(errno code: Int32) -> String {
    let text = String(cString: strerror(code))
    guard !text.isEmpty else { return "error \(code)" }
    return text.prefix(1).lowercased() + text.dropFirst()
  }

  /// The code, whether its domain is POSIX, and the user info of a Foundation error.
  private static func foundationParts(_ error: Any) -> (Int, Bool, [String: Any])? {
    if let e = error as? CocoaError { return (e.code.rawValue, false, e.userInfo) }
    if let e = error as? POSIXError { return (Int(e.code.rawValue), true, e.userInfo) }
    guard let any = error as? Error, type(of: any) is NSError.Type else { return nil }
    let ns = any as NSError
    switch ns.domain {
    case NSCocoaErrorDomain: return (ns.code, false, ns.userInfo)
    case NSPOSIXErrorDomain: return (ns.code, true, ns.userInfo)
    default: return nil
    }
  }

  /// Words for a Foundation file error code without an underlying POSIX error.
  private static func reason(cocoaCode code: Int) -> String {
    switch CocoaError.Code(rawValue: code) {
    case .fileNoSuchFile, .fileReadNoSuchFile: return reason(errno: ENOENT)
    case .fileReadNoPermission, .fileWriteNoPermission: return reason(errno: EACCES)
    case .fileWriteOutOfSpace: return reason(errno: ENOSPC)
    case .fileWriteVolumeReadOnly: return reason(errno: EROFS)
    case .fileWriteFileExists: return reason(errno: EEXIST)
    case .fileReadTooLarge: return reason(errno: EFBIG)
    case .fileReadInvalidFileName, .fileWriteInvalidFileName: return "invalid file name"
    case .fileReadInapplicableStringEncoding, .fileWriteInapplicableStringEncoding: return "not text in the expected encoding (UTF-8)"
    case .fileReadCorruptFile: return "the contents are damaged or in an unknown format"
    case .fileLocking: return "the file is locked"
    case .fileReadUnknown: return "cannot be read"
    case .fileWriteUnknown: return "cannot be written"
    default: return "file error \(code)"
    }
  }
}
