import Foundation
import TwHIN

/// The Heavy Ranker's features of one feed candidate (user u, item v) **as of time T** — the
/// user's split time — computed only from the *visible* ratings (the level's training
/// ratings) **strictly before T**, plus the retrieval model's view of the pair:
///
/// continuous (17)
///   retrieval.score          ⟨e_u, op(e_v)⟩ of the TwHIN model that retrieved v
///   retrieval.rank           v's position in u's candidate list (0 = first)
///   history_similarity       (1/|H|) Σ_{j ∈ H} cos(e_v, e_j),  H = items u rated before T
///   recent_similarity        the same over u's last 10 items before T
///   item.ratings, item.mean_rating, item.liked_fraction           v's ratings before T
///   item.ratings_last_7_days, item.ratings_last_30_days           … in [T − 7 d, T), [T − 30 d, T)
///   item.share, item.share_last_30_days    v's share of all visible ratings before T, and of
///                                          those in [T − 30 d, T) (counts grow with T; shares
///                                          compare across split times)
///   item.days_since_first_rating, item.days_since_last_rating    (0 without history)
///   user.ratings, user.mean_rating, user.liked_fraction           u's ratings before T
///   user.days_since_last_rating
/// binary (2)
///   user.is_new, item.is_new   no visible rating before T
///
/// e_v, e_j are the TwHIN item rows (cosines of the raw rows). Nothing at or after T is read,
/// so a rating planted later cannot change a row (`MovieLensFeedTests`). Means and fractions
/// are 0 without history.
///
///     let f = FeedFeatures(visible: stage.visible, users: task.users, items: task.items, itemEmbeddings: rows, dim: 64)
///     let rows = f.rows([FeedFeatures.Query(user: 0, item: 5, time: t, retrievalScore: 1.2, retrievalRank: 0)])
public struct FeedFeatures {
  public static let continuousNames = [
    "retrieval.score", "retrieval.rank", "history_similarity", "recent_similarity",
    "item.ratings", "item.mean_rating", "item.liked_fraction", "item.ratings_last_7_days", "item.ratings_last_30_days",
    "item.share", "item.share_last_30_days",
    "item.days_since_first_rating", "item.days_since_last_rating",
    "user.ratings", "user.mean_rating", "user.liked_fraction", "user.days_since_last_rating",
  ]
  public static let binaryNames = ["user.is_new", "item.is_new"]
  /// Items of the user's recent history for `recent_similarity`.
  public static let recentItems = 10

  /// A candidate to describe: user and item **rows** of the task, the time T, and how the
  /// retrieval model ranked it.
  public struct Query: Equatable, Sendable {
    public var user: Int, item: Int
    public var time: Int64
    public var retrievalScore: Float
    public var retrievalRank: Int
    public init(user: Int, item: Int, time: Int64, retrievalScore: Float, retrievalRank: Int) {
      (self.user, self.item, self.time, self.retrievalScore, self.retrievalRank) = (user, item, time, retrievalScore, retrievalRank)
    }
  }

  /// One entity's visible ratings in time order with running sums (prefix[k] = Σ of the first k).
  struct Timeline {
    var times: [Int64] = []
    var others: [Int] = []  // the item of a user's rating (for history), unused for items
    var ratingPrefix: [Double] = [0]
    var likedPrefix: [Int] = [0]

    /// How many ratings are strictly before `t`.
    func count(before t: Int64) -> Int {
      var lo = 0, hi = times.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if times[mid] < t { lo = mid + 1 } else { hi = mid }
      }
      return lo
    }
  }

  let users: [Timeline]
  let items: [Timeline]
  /// Every visible rating's time, in order.
  let all: Timeline
  /// Unit-length item rows (zero rows stay zero), items × dim.
  let unitItems: [Float]
  let dim: Int

  /// `visible` holds the ratings features may read (user/item ids of `userIDs` / `itemIDs`;
  /// a rating of an unknown id is ignored); `itemEmbeddings` is items × `dim`, row-major, in
  /// the order of `itemIDs`.
  public init(visible: RatingLog, userIDs: [Int64], itemIDs: [Int64], itemEmbeddings: [Float], dim: Int) {
    let userRow = Dictionary(uniqueKeysWithValues: userIDs.enumerated().map { ($0.element, $0.offset) })
    let itemRow = Dictionary(uniqueKeysWithValues: itemIDs.enumerated().map { ($0.element, $0.offset) })
    var u = [Timeline](repeating: Timeline(), count: userIDs.count), m = [Timeline](repeating: Timeline(), count: itemIDs.count)
    let order = (0..<visible.count).sorted { (visible.timestamp[$0], visible.item[$0], $0) < (visible.timestamp[$1], visible.item[$1], $1) }
    for i in order {
      guard let a = userRow[visible.user[i]], let b = itemRow[visible.item[i]] else { continue }
      let r = visible.rating[i], liked = r >= RatingGraphImport.likedThreshold ? 1 : 0
      u[a].times.append(visible.timestamp[i])
      u[a].others.append(b)
      u[a].ratingPrefix.append(u[a].ratingPrefix.last! + Double(r))
      u[a].likedPrefix.append(u[a].likedPrefix.last! + liked)
      m[b].times.append(visible.timestamp[i])
      m[b].ratingPrefix.append(m[b].ratingPrefix.last! + Double(r))
      m[b].likedPrefix.append(m[b].likedPrefix.last! + liked)
    }
    users = u
    items = m
    var everything = Timeline()
    everything.times = order.map { visible.timestamp[$0] }
    all = everything
    self.dim = dim
    var unit = itemEmbeddings
    for v in 0..<itemIDs.count where (v + 1) * dim <= unit.count {
      var norm: Float = 0
      for d in 0..<dim { norm += unit[v * dim + d] * unit[v * dim + d] }
      let s: Float = norm > 0 ? 1 / norm.squareRoot() : 0
      for d in 0..<dim { unit[v * dim + d] *= s }
    }
    unitItems = unit
  }

  /// The feature row of each query (see the type's doc).
  public func rows(_ queries: [Query]) -> [RatingFeatures.Row] {
    let day: Float = 86_400
    var cachedKey: (Int, Int64)? = nil
    var meanAll = [Float](repeating: 0, count: dim), meanRecent = meanAll
    return queries.map { q in
      let u = users[q.user], m = items[q.item]
      let nu = u.count(before: q.time), nm = m.count(before: q.time)
      if cachedKey.map({ $0 != (q.user, q.time) }) ?? true {
        meanAll = mean(of: u.others[0..<nu])
        meanRecent = mean(of: u.others[max(0, nu - Self.recentItems)..<nu])
        cachedKey = (q.user, q.time)
      }
      func fraction(_ t: Timeline, _ n: Int) -> (mean: Float, liked: Float) {
        n == 0 ? (0, 0) : (Float(t.ratingPrefix[n] / Double(n)), Float(t.likedPrefix[n]) / Float(n))
      }
      let (uMean, uLiked) = fraction(u, nu), (mMean, mLiked) = fraction(m, nm)
      let month = q.time - 30 * 86_400
      let (nAll, nMonth, mMonth) = (all.count(before: q.time), all.count(before: q.time) - all.count(before: month), nm - m.count(before: month))
      let continuous: [Float] = [
        q.retrievalScore, Float(q.retrievalRank), dot(q.item, meanAll), dot(q.item, meanRecent),
        Float(nm), mMean, mLiked, Float(nm - m.count(before: q.time - 7 * 86_400)), Float(mMonth),
        nAll == 0 ? 0 : Float(nm) / Float(nAll), nMonth == 0 ? 0 : Float(mMonth) / Float(nMonth),
        nm == 0 ? 0 : Float(q.time - m.times[0]) / day, nm == 0 ? 0 : Float(q.time - m.times[nm - 1]) / day,
        Float(nu), uMean, uLiked, nu == 0 ? 0 : Float(q.time - u.times[nu - 1]) / day,
      ]
      return RatingFeatures.Row(continuous: continuous, binary: [nu == 0 ? 1 : 0, nm == 0 ? 1 : 0])
    }
  }

  /// Mean of the unit item rows of `items` (zeros when empty).
  func mean(of items: ArraySlice<Int>) -> [Float] {
    var out = [Float](repeating: 0, count: dim)
    guard !items.isEmpty else { return out }
    for j in items where (j + 1) * dim <= unitItems.count {
      for d in 0..<dim { out[d] += unitItems[j * dim + d] }
    }
    let s = 1 / Float(items.count)
    for d in 0..<dim { out[d] *= s }
    return out
  }

  /// ⟨unit row of `item`, v⟩ = the mean cosine when v is a mean of unit rows.
  func dot(_ item: Int, _ v: [Float]) -> Float {
    guard (item + 1) * dim <= unitItems.count else { return 0 }
    var s: Float = 0
    for d in 0..<dim { s += unitItems[item * dim + d] * v[d] }
    return s
  }
}
