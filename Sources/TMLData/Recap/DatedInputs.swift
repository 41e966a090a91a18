import Foundation
import TMLIO

/// Data selected by time instead of a glob — the original's `explicit_datetime_inputs`
/// (hourly folders `data_root/YYYY/MM/DD/HH/`) and `explicit_date_inputs` (daily folders
/// `data_root/YYYY/MM/DD/`):
///
///     periods = end − (count − 1), …, end − 1, end      (UTC, oldest first)
///     files   = sorted(every `*.gz` file directly in those folders)
///
/// A folder that is missing or holds no `.gz` file counts as a missing period; more than
/// `missingTolerance` of them is an error that lists them. `end` is inclusive, as the
/// original's field documentation says (its code, which never ran — it passes an
/// argument its helper does not take — read the `count` periods *before* `end`).
public struct DatedInputs: Equatable, Sendable {
  public enum Granularity: String, Sendable {
    case hourly, daily
    var format: String { self == .hourly ? "YYYY/MM/DD/HH" : "YYYY/MM/DD" }
    var unit: String { self == .hourly ? "hour" : "day" }
  }

  public let dataRoot: String
  public let granularity: Granularity
  /// The start of the last period (UTC).
  public let end: Date
  public let count: Int
  public let missingTolerance: Int

  /// Parses `end` (`YYYY/MM/DD/HH` hourly, `YYYY/MM/DD` daily); `key` names the config
  /// entry in errors (e.g. `train_data.explicit_datetime_inputs`).
  public init(dataRoot: String, end: String, count: Int, missingTolerance: Int, granularity: Granularity, key: String) throws {
    let parts = end.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
    let expected = granularity == .hourly ? 4 : 3
    guard parts.count == expected, parts.allSatisfy({ $0 != nil }) else {
      throw DataError("\(key).end_\(granularity == .hourly ? "datetime" : "date"): '\(end)' is not \(granularity.format); write e.g. \(granularity == .hourly ? "2023/03/31/23" : "2023/03/31")")
    }
    var c = DateComponents(year: parts[0]!, month: parts[1]!, day: parts[2]!, hour: granularity == .hourly ? parts[3]! : 0)
    c.timeZone = TimeZone(identifier: "UTC")
    guard let date = DatedInputs.calendar.date(from: c),
          DatedInputs.calendar.dateComponents([.year, .month, .day, .hour], from: date) == DateComponents(year: c.year, month: c.month, day: c.day, hour: c.hour) else {
      throw DataError("\(key): '\(end)' is not a valid \(granularity.format) date")
    }
    guard count > 0 else { throw DataError("\(key): the number of \(granularity.unit)s must be positive, got \(count)") }
    guard missingTolerance >= 0 else { throw DataError("\(key): the missing-\(granularity.unit)s tolerance must be ≥ 0, got \(missingTolerance)") }
    self.dataRoot = dataRoot
    self.granularity = granularity
    self.end = date
    self.count = count
    self.missingTolerance = missingTolerance
  }

  static let calendar: Calendar = {
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "UTC")!
    return cal
  }()

  /// `date` as `granularity.format` (`2023/03/31/23` or `2023/03/31`), UTC.
  func stamp(_ date: Date) -> String {
    let p = DatedInputs.calendar.dateComponents([.year, .month, .day, .hour], from: date)
    let day = String(format: "%04d/%02d/%02d", p.year!, p.month!, p.day!)
    return granularity == .hourly ? day + String(format: "/%02d", p.hour!) : day
  }

  /// The folder of every period, oldest first.
  public var folders: [String] {
    let component: Calendar.Component = granularity == .hourly ? .hour : .day
    return (0..<count).reversed().map { back in
      (dataRoot as NSString).appendingPathComponent(stamp(DatedInputs.calendar.date(byAdding: component, value: -back, to: end)!))
    }
  }

  /// A one-line description for logs: `data_root/YYYY/MM/DD/HH, 24 hours to 2023/03/31/23`.
  public var summary: String {
    "\((dataRoot as NSString).appendingPathComponent(granularity.format)), \(count) \(granularity.unit)s to \(stamp(end))"
  }

  /// The sorted `.gz` files of all periods; throws when too many periods are missing.
  public func files() throws -> [String] {
    var files: [String] = []
    var missing: [String] = []
    let fm = FileManager.default
    for folder in folders {
      var isDirectory: ObjCBool = false
      var names: [String] = []
      if fm.fileExists(atPath: folder, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw DataError("\(folder): expected a folder of .gz files (\(summary)), found a file") }
        do { names = try fm.contentsOfDirectory(atPath: folder) } catch {
          throw DataError("\(folder): cannot list this folder (\(summary)): \(FileError.reason(of: error)); check its permissions")
        }
      }
      let gz = names.filter { name in
        var dir: ObjCBool = false
        return (name as NSString).pathExtension.lowercased() == "gz"
          && fm.fileExists(atPath: (folder as NSString).appendingPathComponent(name), isDirectory: &dir) && !dir.boolValue
      }
      if gz.isEmpty { missing.append(folder) }
      files += gz.map { (folder as NSString).appendingPathComponent($0) }
    }
    if missing.count > missingTolerance {
      let shown = missing.prefix(5).joined(separator: ", ") + (missing.count > 5 ? ", …" : "")
      throw DataError("\(summary): \(missing.count) of \(count) \(granularity.unit)s have no .gz files (\(shown)); the tolerance is \(missingTolerance) (num_missing_\(granularity.unit)s_tol)")
    }
    return files.sorted()
  }
}
