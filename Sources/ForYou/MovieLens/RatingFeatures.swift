import Foundation
import TwHIN

/// The Heavy Ranker's features of one rating of a MovieLens log, computed only from the
/// ratings **strictly before** its timestamp (ratings in the same second are not yet
/// visible), in the `continuous` / `binary` segdense families:
///
/// continuous (9)
///   user.ratings, user.mean_rating, user.liked_fraction       the user's ratings so far
///   item.ratings, item.mean_rating, item.liked_fraction       the item's ratings so far
///   user.days_since_last_rating, item.days_since_first_rating  (0 when none)
///   global.mean_rating                                        every rating so far
/// binary (2)
///   user.is_new, item.is_new                                  no rating before
///
/// Means and fractions are 0 without history (the binary flags say so). Labels come from
/// the rating itself, never a feature: `is_liked` = rating ≥ 4, `is_loved` = rating = 5.
///
///     let rows = RatingFeatures.rows(log)      // one (continuous, binary) per rating, log order
public enum RatingFeatures {
  public static let continuousNames = [
    "user.ratings", "user.mean_rating", "user.liked_fraction", "item.ratings", "item.mean_rating", "item.liked_fraction",
    "user.days_since_last_rating", "item.days_since_first_rating", "global.mean_rating",
  ]
  public static let binaryNames = ["user.is_new", "item.is_new"]
  /// Label name and whether a rating is a positive for it.
  public static let labels: [(name: String, isPositive: @Sendable (Float) -> Bool)] = [
    ("is_liked", { $0 >= RatingGraphImport.likedThreshold }), ("is_loved", { $0 >= 5 }),
  ]

  public struct Row: Equatable, Sendable {
    public var continuous: [Float]
    public var binary: [Int64]
  }

  /// Running totals of one user or item.
  struct Tally {
    var count = 0, liked = 0
    var sum: Double = 0
    var first = Int64.max, last = Int64.min

    mutating func add(_ rating: Float, at t: Int64) {
      count += 1
      sum += Double(rating)
      if rating >= RatingGraphImport.likedThreshold { liked += 1 }
      first = min(first, t)
      last = max(last, t)
    }

    var mean: Float { count == 0 ? 0 : Float(sum / Double(count)) }
    var likedFraction: Float { count == 0 ? 0 : Float(liked) / Float(count) }
  }

  /// Every rating's row, in log order: each as of its own timestamp.
  public static func rows(_ log: RatingLog) -> [Row] {
    rows(log, queries: (0..<log.count).map { (log.user[$0], log.item[$0], log.timestamp[$0]) })
  }

  /// The row of each (user, item) as of `time`, from the log's ratings strictly before
  /// `time` (the candidates a ranker scores at a user's split time). The log is walked by
  /// time; every rating earlier than a query's time is added before that query is encoded.
  public static func rows(_ log: RatingLog, queries: [(user: Int64, item: Int64, time: Int64)]) -> [Row] {
    let events = (0..<log.count).sorted { (log.timestamp[$0], $0) < (log.timestamp[$1], $1) }
    let order = queries.indices.sorted { (queries[$0].time, $0) < (queries[$1].time, $1) }
    var users: [Int64: Tally] = [:], items: [Int64: Tally] = [:], all = Tally()
    var out = [Row](repeating: Row(continuous: [], binary: []), count: queries.count)
    var next = 0
    for q in order {
      let (user, item, t) = queries[q]
      while next < events.count && log.timestamp[events[next]] < t {
        let i = events[next]
        users[log.user[i], default: Tally()].add(log.rating[i], at: log.timestamp[i])
        items[log.item[i], default: Tally()].add(log.rating[i], at: log.timestamp[i])
        all.add(log.rating[i], at: log.timestamp[i])
        next += 1
      }
      let u = users[user] ?? Tally(), m = items[item] ?? Tally()
      let day: Float = 86_400
      out[q] = Row(
        continuous: [Float(u.count), u.mean, u.likedFraction, Float(m.count), m.mean, m.likedFraction,
                     u.count == 0 ? 0 : Float(t - u.last) / day, m.count == 0 ? 0 : Float(t - m.first) / day, all.mean],
        binary: [u.count == 0 ? 1 : 0, m.count == 0 ? 1 : 0])
    }
    return out
  }
}
