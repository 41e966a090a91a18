/// Which part of the simulated time an impression falls in.
public enum Period: Int, Sendable {
  /// Feeds TwHIN's engagement edges and the aggregate features only.
  case history
  /// The ranker's training impressions.
  case train
  /// The ranker's held-out impressions (quality metrics).
  case test
}

/// One tweet shown to one user, with the engagements drawn for it.
public struct Impression: Sendable {
  /// Position in time order.
  public var id: Int
  public var user: Int
  public var tweet: Int
  public var hour: Double
  /// Bit h set when head h (`EngagementHead.rawValue`) happened.
  public var engagements: UInt16
  /// Σ_h weight_h · P_true(h) (the simulator's expected utility).
  public var expectedUtility: Double
  public var period: Period

  public func engaged(_ head: EngagementHead) -> Bool { engagements & (1 << UInt16(head.rawValue)) != 0 }

  /// Σ_h weight_h · y_h over the heads that happened.
  public var realisedUtility: Double {
    EngagementHead.allCases.reduce(0) { $0 + (engaged($1) ? $1.weight : 0) }
  }
}
