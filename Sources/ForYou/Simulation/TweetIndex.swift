/// Each author's tweets in creation order, for "recent tweets of author a" queries.
struct TweetIndex: Sendable {
  /// Tweet ids of each author, ascending (= creation order).
  let tweets: [[Int]]
  let hours: [[Double]]

  init(tweets all: [SimTweet], authors: Int) {
    var ids = [[Int]](repeating: [], count: authors)
    var hours = [[Double]](repeating: [], count: authors)
    for t in all {
      ids[t.author].append(t.id)
      hours[t.author].append(t.createdHour)
    }
    tweets = ids
    self.hours = hours
  }

  /// Positions in `tweets[author]` of the tweets posted in [from, to).
  func range(author: Int, from: Double, to: Double) -> Range<Int> {
    let h = hours[author]
    func firstAtLeast(_ x: Double) -> Int {
      var lo = 0, hi = h.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if h[mid] < x { lo = mid + 1 } else { hi = mid }
      }
      return lo
    }
    let lo = firstAtLeast(from), hi = firstAtLeast(to)
    return lo..<max(lo, hi)
  }

  /// How many tweets `author` had posted before `hour`.
  func postedBefore(author: Int, hour: Double) -> Int { range(author: author, from: -.infinity, to: hour).count }
}
