import Foundation

/// The time-based split of a rating log: each user's **last 20 %** of ratings by time are
/// held out for testing, the rest train.
///
/// A user's ratings are ordered by (timestamp, item id) — ties in time, frequent in
/// MovieLens where a user rates several films in one second, are broken by the smaller
/// item id coming first — and the last ⌊n · fraction⌋ of that order are held out. A user
/// with fewer than 1 / fraction ratings (under 5 at 20 %) holds out nothing. The split
/// is a function of the log alone, so every command that re-reads the log
/// (`tml data movielens`, `tml data movielens-eval`, the ranker examples) sees the same one.
///
///     let split = TemporalSplit(log, testFraction: 0.2)
///     split.train      // indices into the log, in log order
///     split.test       // held-out indices, in log order
public struct TemporalSplit: Equatable, Sendable {
  public let train: [Int]
  public let test: [Int]

  public init(_ log: RatingLog, testFraction: Double = 0.2) {
    var byUser: [Int64: [Int]] = [:]
    for i in 0..<log.count { byUser[log.user[i], default: []].append(i) }
    var isTest = [Bool](repeating: false, count: log.count)
    for (_, indices) in byUser {
      let held = Int((Double(indices.count) * testFraction + 1e-9).rounded(.down))  // 1e-9: 0.29 · 100 is 28.999… in floating point
      guard held > 0 else { continue }
      let ordered = indices.sorted { (log.timestamp[$0], log.item[$0], $0) < (log.timestamp[$1], log.item[$1], $1) }
      for i in ordered.suffix(held) { isTest[i] = true }
    }
    train = (0..<log.count).filter { !isTest[$0] }
    test = (0..<log.count).filter { isTest[$0] }
  }
}
