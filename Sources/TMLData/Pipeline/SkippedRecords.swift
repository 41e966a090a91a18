/// A record a batch builder left out because of a data error (with `ignore_data_errors`):
/// its file, its index among the file's readable records, and the error.
public struct SkippedRecord: Sendable, Equatable {
  public var file: String
  public var index: Int
  public var message: String

  public init(file: String, index: Int, message: String) {
    self.file = file
    self.index = index
    self.message = message
  }
}

/// The records an input pipeline left out under `ignore_data_errors`, per input file:
/// how many, and the first error (the one nearest the start of the file). A file read
/// again (the next epoch) counts its bad records again.
///
///     for f in pipe.skipped.files { print("\(f.path): \(f.count) skipped, first: \(f.firstError)") }
public struct SkippedRecords: Sendable, Equatable {
  /// One file's skipped records.
  public struct File: Sendable, Equatable {
    public var path: String
    public var count: Int
    public var firstError: String
    /// Where the first error sits in the file (see `add`), to keep the earliest one
    /// whatever order the parse threads report in.
    var firstErrorPosition: Int
  }

  private var byPath: [String: File] = [:]

  public init() {}

  /// Skipped records over all files.
  public var total: Int { byPath.values.reduce(0) { $0 + $1.count } }

  /// The files with skipped records, sorted by path.
  public var files: [File] { byPath.values.sorted { $0.path < $1.path } }

  /// The entry of `path`, if any of its records were skipped.
  public subscript(path: String) -> File? { byPath[path] }

  /// Counts `count` skipped records of `file`. `beforeRecord` is the index of the
  /// readable record the error comes before (a framing/CRC error the reader skipped)
  /// or at (a record that failed to parse): it orders the errors within the file.
  public mutating func add(file: String, count: Int = 1, beforeRecord index: Int, unparseable: Bool, message: String) {
    guard count > 0 else { return }
    let position = 2 * index + (unparseable ? 1 : 0)
    if var f = byPath[file] {
      f.count += count
      if position < f.firstErrorPosition { (f.firstError, f.firstErrorPosition) = (message, position) }
      byPath[file] = f
    } else {
      byPath[file] = File(path: file, count: count, firstError: message, firstErrorPosition: position)
    }
  }

  /// Adds another count's files (another rank's, which read other files): counts add up
  /// and each file keeps its earliest first error.
  public mutating func merge(_ other: SkippedRecords) {
    for f in other.byPath.values {
      if var mine = byPath[f.path] {
        mine.count += f.count
        if f.firstErrorPosition < mine.firstErrorPosition { (mine.firstError, mine.firstErrorPosition) = (f.firstError, f.firstErrorPosition) }
        byPath[f.path] = mine
      } else {
        byPath[f.path] = f
      }
    }
  }

  /// The files as (path, count, first error, its position) rows, and back — to send a
  /// count to another process.
  public var rows: [(path: String, count: Int, firstError: String, position: Int)] {
    files.map { ($0.path, $0.count, $0.firstError, $0.firstErrorPosition) }
  }

  public init(rows: [(path: String, count: Int, firstError: String, position: Int)]) {
    for r in rows { byPath[r.path] = File(path: r.path, count: r.count, firstError: r.firstError, firstErrorPosition: r.position) }
  }

  /// Counts the records a batch builder skipped.
  public mutating func add(_ records: [SkippedRecord]) {
    for r in records { add(file: r.file, beforeRecord: r.index, unparseable: true, message: r.message) }
  }
}
