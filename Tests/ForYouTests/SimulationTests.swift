import XCTest
@testable import ForYou

/// The simulator is deterministic and follows its documented generative model.
final class SimulationTests: XCTestCase {
  static let network = SocialNetwork(SimulationConfig(users: 300, seed: 5))

  func testTheSameSeedGivesTheSameNetworkAndAnotherSeedAnotherOne() {
    let a = SocialNetwork(SimulationConfig(users: 120, seed: 9)), b = SocialNetwork(SimulationConfig(users: 120, seed: 9))
    XCTAssertEqual(a.tweets.count, b.tweets.count)
    XCTAssertEqual(a.impressions.map(\.tweet), b.impressions.map(\.tweet))
    XCTAssertEqual(a.impressions.map(\.engagements), b.impressions.map(\.engagements))
    XCTAssertEqual(a.follows.followees, b.follows.followees)
    let c = SocialNetwork(SimulationConfig(users: 120, seed: 10))
    XCTAssertNotEqual(a.impressions.map(\.tweet), c.impressions.map(\.tweet))
  }

  func testImpressionsAreInTimeOrderAndSplitIntoHistoryTrainAndTestPeriods() {
    let n = SimulationTests.network, c = n.config
    XCTAssertEqual(n.impressions.map(\.id), Array(n.impressions.indices))
    XCTAssertTrue(zip(n.impressions, n.impressions.dropFirst()).allSatisfy { $0.hour <= $1.hour })
    for imp in n.impressions {
      let expected: Period = imp.hour < c.trainStartHour ? .history : (imp.hour < c.testStartHour ? .train : .test)
      XCTAssertEqual(imp.period, expected)
      let t = n.tweets[imp.tweet]
      XCTAssertLessThan(t.createdHour, imp.hour, "a tweet is shown only after it is posted")
      XCTAssertLessThanOrEqual(imp.hour - t.createdHour, c.candidateWindowHours)
    }
    for p in [Period.history, .train, .test] { XCTAssertGreaterThan(n.impressions.filter { $0.period == p }.count, 100) }
  }

  func testAUserSeesATweetAtMostOnce() {
    var seen = Set<[Int]>()
    for imp in SimulationTests.network.impressions { XCTAssertTrue(seen.insert([imp.user, imp.tweet]).inserted) }
  }

  func testVideoPlaybackOnlyOnVideoTweetsAndAuthorEngagementOnlyAfterAReply() {
    let n = SimulationTests.network
    for imp in n.impressions {
      if imp.engaged(.videoPlayback50) { XCTAssertEqual(n.tweets[imp.tweet].media, .video) }
      if imp.engaged(.replyEngagedByAuthor) { XCTAssertTrue(imp.engaged(.reply)) }
    }
    XCTAssertTrue(n.impressions.contains { $0.engaged(.videoPlayback50) })
    XCTAssertTrue(n.impressions.contains { $0.engaged(.replyEngagedByAuthor) })
  }

  func testInterestMatchDrivesPositiveHeadsAndMismatchAndLowQualityTheNegativeOnes() {
    let model = EngagementModel()
    let user = SimUser(interests: [0.61, 0.31, 0.08], primaryTopic: 0, secondaryTopic: 1, propensity: 0, activity: 1)
    let author = SimAuthor(topic: 0, quality: 0, popularity: 1, responsiveness: 0.5, verified: false, imageRate: 0, videoRate: 0, tweetsPerDay: 1)
    func p(topic: Int, quality: Double, media: MediaType = .text) -> [Double] {
      model.probabilities(user: user, author: author, tweet: SimTweet(id: 0, author: 0, topic: topic, media: media, createdHour: 0, quality: quality),
                          follows: false, ageHours: 2)
    }
    let match = p(topic: 0, quality: 0), mismatch = p(topic: 2, quality: 0), bad = p(topic: 2, quality: -2)
    for h in [EngagementHead.favorite, .retweet, .reply, .goodProfileClick, .goodClick, .goodClickV2, .replyEngagedByAuthor] {
      XCTAssertGreaterThan(match[h.rawValue], mismatch[h.rawValue], h.label)
    }
    XCTAssertLessThan(match[EngagementHead.negativeFeedbackV2.rawValue], mismatch[EngagementHead.negativeFeedbackV2.rawValue])
    XCTAssertLessThan(mismatch[EngagementHead.report.rawValue], bad[EngagementHead.report.rawValue])
    XCTAssertEqual(match[EngagementHead.videoPlayback50.rawValue], 0)
    XCTAssertGreaterThan(p(topic: 0, quality: 0, media: .video)[EngagementHead.videoPlayback50.rawValue], 0.5)
    XCTAssertGreaterThan(EngagementModel.expectedUtility(match), 0)
    XCTAssertLessThan(EngagementModel.expectedUtility(bad), 0)
  }

  func testTheFollowGraphHasHeavyTailedDegreesAndTopicalCommunities() {
    let c = SimulationConfig(users: 1000, seed: 5)
    let users = Population.users(c), authors = Population.authors(c)
    let follows = FollowGraph(config: c, users: users, authors: authors)
    let followers = follows.followers.sorted()
    XCTAssertGreaterThan(Double(followers.last!), 4 * Double(followers[followers.count / 2]), "heavy-tailed in-degree")
    let degrees = follows.followees.map(\.count).sorted()
    XCTAssertGreaterThan(Double(degrees.last!), 3 * Double(degrees[degrees.count / 2]), "heavy-tailed out-degree")
    var inside = 0, total = 0
    for (u, followed) in follows.followees.enumerated() {
      let mine: Set = [users[u].primaryTopic, users[u].secondaryTopic]
      inside += followed.filter { mine.contains(authors[$0].topic) }.count
      total += followed.count
    }
    XCTAssertGreaterThan(Double(inside) / Double(total), 0.6, "most follows stay in the user's topics")
  }

  func testTheGraphForTwHINHoldsFollowsAuthorshipAndHistoryEngagementsOnly() throws {
    let n = SimulationTests.network
    let g = try EngagementGraph(n, heldOutFraction: 0.05)
    XCTAssertEqual(g.schema.relations.map(\.name), ["follow", "authored", "fav", "reply", "retweet"])
    XCTAssertEqual(g.schema.tables.map(\.name), ["user", "user_eng", "author", "tweet"])
    let counts = g.edgeCounts
    XCTAssertEqual(counts[0], n.follows.edgeCount)
    XCTAssertEqual(counts[1], n.tweets.count)
    XCTAssertEqual(counts[2], n.impressions.filter { $0.period == .history && $0.engaged(.favorite) }.count)
    XCTAssertFalse(g.heldOut.relations.contains(EngagementGraph.Relation.authored.rawValue))
  }
}
