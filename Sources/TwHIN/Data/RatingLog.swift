import Foundation

/// A MovieLens rating log in one of GroupLens' three layouts (`tml data movielens`):
///
/// | format | file | line |
/// |---|---|---|
/// | `100k` | `u.data` | `user<TAB>item<TAB>rating<TAB>timestamp`, no header |
/// | `1m` (also 10M) | `ratings.dat` | `user::item::rating::timestamp`, no header |
/// | `25m` (also 20M, latest) | `ratings.csv` | header `userId,movieId,rating,timestamp`, then `u,i,r,t` |
///
/// `auto` picks the format from the file name (`u.data` or any `*.data`, `ratings.dat`
/// or any `*.dat`, `*.csv`). Users and items are integer ids, ratings numbers (0.5-star
/// steps in 25M), timestamps integer Unix seconds. A malformed line is an error naming
/// the file, the line and what is wrong; empty lines are skipped.
///
///     let log = try RatingLog(path: "ml-100k/u.data")   // format by name
///     log.count            // 100_000
///     log.rating[0]        // 3.0
public struct RatingLog: Equatable, Sendable {
  /// GroupLens' layouts; `auto` chooses by file name.
  public enum Format: String, CaseIterable, Sendable {
    case auto, ml100k = "100k", ml1m = "1m", ml25m = "25m"
  }

  public var user: [Int64] = []
  public var item: [Int64] = []
  public var rating: [Float] = []
  public var timestamp: [Int64] = []

  public var count: Int { user.count }

  public init() {}

  /// One rating per index; the arrays must have one value per rating.
  public init(user: [Int64], item: [Int64], rating: [Float], timestamp: [Int64]) {
    (self.user, self.item, self.rating, self.timestamp) = (user, item, rating, timestamp)
  }

  public mutating func append(user u: Int64, item i: Int64, rating r: Float, timestamp t: Int64) {
    user.append(u)
    item.append(i)
    rating.append(r)
    timestamp.append(t)
  }

  /// The format of `path` from its name (for `auto`), or an error saying to pass `--format`.
  public static func format(of path: String, _ requested: Format) throws -> Format {
    guard requested == .auto else { return requested }
    let name = (path as NSString).lastPathComponent.lowercased()
    if name.hasSuffix(".data") { return .ml100k }
    if name.hasSuffix(".dat") { return .ml1m }
    if name.hasSuffix(".csv") { return .ml25m }
    throw TwHINError("\(path): cannot tell the MovieLens format from the file name (expected u.data, ratings.dat or ratings.csv); pass --format 100k, 1m or 25m")
  }

  public init(path: String, format requested: Format = .auto) throws {
    let format = try RatingLog.format(of: path, requested)
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw TwHINError("\(path): cannot read the rating log (\((error as NSError).localizedDescription)); check the path")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw TwHINError("\(path): not UTF-8 text") }
    let expected: String
    switch format {
    case .ml100k, .auto: expected = "user<TAB>item<TAB>rating<TAB>timestamp (u.data)"
    case .ml1m: expected = "user::item::rating::timestamp (ratings.dat)"
    case .ml25m: expected = "userId,movieId,rating,timestamp (ratings.csv)"
    }
    var lineNumber = 0
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
      if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
      let fields: [Substring]
      switch format {
      case .ml100k, .auto: fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      case .ml1m: fields = RatingLog.split(line, on: "::")
      case .ml25m:
        fields = line.split(separator: ",", omittingEmptySubsequences: false)
        if lineNumber == 1 {
          guard fields.map({ $0.trimmingCharacters(in: .whitespaces) }) == ["userId", "movieId", "rating", "timestamp"] else {
            throw TwHINError("\(path):1: expected the header userId,movieId,rating,timestamp, found \"\(line.prefix(60))\"; is this a MovieLens ratings.csv?")
          }
          continue
        }
      }
      guard fields.count == 4 else {
        throw TwHINError("\(path):\(lineNumber): expected 4 fields \(expected), found \(fields.count); fix or remove the line")
      }
      let f = fields.map { $0.trimmingCharacters(in: .whitespaces) }
      guard let u = Int64(f[0]) else { throw Self.bad(path, lineNumber, "user id", f[0]) }
      guard let i = Int64(f[1]) else { throw Self.bad(path, lineNumber, "item id", f[1]) }
      guard let r = Float(f[2]), r.isFinite else { throw Self.bad(path, lineNumber, "rating", f[2]) }
      guard let t = Int64(f[3]) ?? Double(f[3]).flatMap({ $0.isFinite && $0 == $0.rounded() ? Int64(exactly: $0) : nil }) else {
        throw Self.bad(path, lineNumber, "timestamp", f[3])
      }
      append(user: u, item: i, rating: r, timestamp: t)
    }
    guard count > 0 else { throw TwHINError("\(path): no ratings (expected lines \(expected))") }
  }

  private static func bad(_ path: String, _ line: Int, _ what: String, _ value: String) -> TwHINError {
    let number = what == "rating" ? "a number" : "an integer"
    return TwHINError("\(path):\(line): the \(what) '\(value.prefix(40))' is not \(number); fix or remove the line")
  }

  /// `line` split on a multi-character separator, keeping empty fields.
  static func split(_ line: Substring, on separator: String) -> [Substring] {
    var out: [Substring] = []
    var rest = line
    while let r = rest.range(of: separator) {
      out.append(rest[..<r.lowerBound])
      rest = rest[r.upperBound...]
    }
    out.append(rest)
    return out
  }
}
