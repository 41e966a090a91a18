/// The size and shape of the simulated social network (`SocialNetwork`). Everything
/// else scales with `users`:
///
///     authors = max(12, users / 5)          topics = clamp(authors / 20, 3, 10)
///     time    = historyDays + trainDays + testDays days, hour 0 = start of the history
///
/// The history period feeds TwHIN and the aggregate features; the train period gives the
/// ranker's training impressions; the test period its held-out impressions.
///
///     let config = SimulationConfig(users: 2000, seed: 7)
public struct SimulationConfig: Equatable, Sendable {
  public var users: Int
  public var authors: Int
  public var topics: Int
  public var historyDays: Int
  public var trainDays: Int
  public var testDays: Int
  /// Mean tweets per author per day (each author's rate is log-normal around it).
  public var tweetsPerAuthorDay: Double
  /// Median follows per user (log-normal out-degree, σ = 0.8).
  public var followsPerUser: Double
  /// Probability that a follow is drawn from the user's own interests (else from global popularity).
  public var followInterestShare: Double
  /// Mean timeline sessions per user per day (scaled by each user's activity).
  public var sessionsPerUserDay: Double
  /// Tweets served per session by the logging policy.
  public var impressionsPerSession: Int
  /// Share of a session's tweets that come from followed authors (the rest: out-of-network by popularity).
  public var inNetworkShare: Double
  /// Tweets older than this are never served.
  public var candidateWindowHours: Double
  public var seed: UInt64

  public init(users: Int, seed: UInt64 = 0) {
    self.users = max(users, 20)
    authors = max(12, self.users / 5)
    topics = min(10, max(3, authors / 20))
    historyDays = 4
    trainDays = 3
    testDays = 1
    tweetsPerAuthorDay = 2.5
    followsPerUser = 20
    followInterestShare = 0.85
    sessionsPerUserDay = 2
    impressionsPerSession = 12
    inNetworkShare = 0.5
    candidateWindowHours = 48
    self.seed = seed
  }

  public var days: Int { historyDays + trainDays + testDays }
  /// Hours at which the train and test periods start, and the end of the simulation.
  public var trainStartHour: Double { Double(historyDays * 24) }
  public var testStartHour: Double { Double((historyDays + trainDays) * 24) }
  public var endHour: Double { Double(days * 24) }
}
