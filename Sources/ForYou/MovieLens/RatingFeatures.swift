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

  /// Every rating's row, in log order. The log is walked by time; all ratings of one second
  /// are encoded from the totals before that second, then added.
  public static func rows(_ log: RatingLog) -> [Row] {
    let order = (0..<log.count).sorted { (log.timestamp[$0], $0) < (log.timestamp[$1], $1) }
    var users: [Int64: Tally] = [:], items: [Int64: Tally] = [:], all = Tally()
    var out = [Row](repeating: Row(continuous: [], binary: []), count: log.count)
    var start = 0
    while start < order.count {
      var end = start
      while end < order.count && log.timestamp[order[end]] == log.timestamp[order[start]] { end += 1 }
      let t = log.timestamp[order[start]]
      for i in order[start..<end] {
        let u = users[log.user[i]] ?? Tally(), m = items[log.item[i]] ?? Tally()
        let day: Float = 86_400
        out[i] = Row(
          continuous: [Float(u.count), u.mean, u.likedFraction, Float(m.count), m.mean, m.likedFraction,
                       u.count == 0 ? 0 : Float(t - u.last) / day, m.count == 0 ? 0 : Float(t - m.first) / day, all.mean],
          binary: [u.count == 0 ? 1 : 0, m.count == 0 ? 1 : 0])
      }
      for i in order[start..<end] {
        users[log.user[i], default: Tally()].add(log.rating[i], at: t)
        items[log.item[i], default: Tally()].add(log.rating[i], at: t)
        all.add(log.rating[i], at: t)
      }
      start = end
    }
    return out
  }
}
