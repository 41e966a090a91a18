import Foundation
import TMLIO

/// The "For You" weighted engagement score: the ranked feed orders candidates by
///
///     score = Σ_heads weight_h · p_h
///
/// with p_h each head's (calibrated) probability. The default weights are Twitter's
/// published April-2023 values; a YAML or JSON file `{head: weight}` overrides them.
/// Scoring a predictions file checks the heads (`check(heads:in:)`): every head the file
/// names must be a column, and at least one weighted head must be.
public struct EngagementScore: Sendable {
  public static let defaultWeights: [(head: String, weight: Double)] = [
    ("recap.engagement.is_favorited", 0.5),
    ("recap.engagement.is_retweeted", 1.0),
    ("recap.engagement.is_replied", 13.5),
    ("recap.engagement.is_profile_clicked_and_profile_engaged", 12.0),
    ("recap.engagement.is_video_playback_50", 0.005),
    ("recap.engagement.is_replied_reply_engaged_by_author", 75.0),
    ("recap.engagement.is_good_clicked_convo_desc_favorited_or_replied", 11.0),
    ("recap.engagement.is_good_clicked_convo_desc_v2", 10.0),
    ("recap.engagement.is_negative_feedback_v2", -74.0),
    ("recap.engagement.is_report_tweet_clicked", -369.0),
  ]

  public var weights: [(head: String, weight: Double)]
  /// The heads a weights file set, and the file (nil for the defaults).
  public var overrides: (file: String, heads: [String])?

  public init(weights: [(head: String, weight: Double)] = EngagementScore.defaultWeights) { self.weights = weights }

  /// Loads `{head: weight}` from a JSON or simple YAML (`head: weight` per line) file;
  /// heads not listed keep their default weight.
  public init(overridesFrom path: String) throws {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
      throw ScoreError("\(path): cannot read the weights file (\(FileError.reason(of: error)))")
    }
    var overrides: [String: Double] = [:]
    if let data = text.data(using: .utf8), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
      for (k, v) in json {
        guard let d = (v as? NSNumber)?.doubleValue else { throw ScoreError("\(path): weight of \(k) is not a number") }
        overrides[k] = d
      }
    } else {
      for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
        guard let colon = line.lastIndex(of: ":"),
              let w = Double(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)) else {
          throw ScoreError("\(path):\(n + 1): expected `head: weight`, got \(line)")
        }
        overrides[line[..<colon].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))] = w
      }
    }
    var w = EngagementScore.defaultWeights
    for (k, v) in overrides.sorted(by: { $0.key < $1.key }) {
      if let i = w.firstIndex(where: { $0.head == k }) { w[i].weight = v } else { w.append((k, v)) }
    }
    weights = w
    self.overrides = (path, overrides.keys.sorted())
  }

  /// Checks the weights against the heads of a predictions file (`source` names it): a
  /// head the weights file names that is not a column would silently add nothing, and
  /// with no weighted head among the columns every score would be 0 — both are errors
  /// listing the file's heads.
  public func check(heads: [String], in source: String) throws {
    let available = Set(heads)
    let listed = heads.isEmpty ? "none" : heads.joined(separator: ", ")
    if let overrides {
      let unknown = overrides.heads.filter { !available.contains($0) }
      guard unknown.isEmpty else {
        throw ScoreError("\(overrides.file): head\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")) match\(unknown.count == 1 ? "es" : "") no column of \(source); its heads are: \(listed). Fix the name\(unknown.count == 1 ? "" : "s") in the weights file")
      }
    }
    guard weights.contains(where: { available.contains($0.head) }) else {
      throw ScoreError("\(source): none of the weighted heads is a column (its heads are: \(listed)); every score would be 0. Pass --weights with {head: weight} for these heads")
    }
  }

  /// The score and each head's contribution (weight · p) for one candidate; heads the
  /// model does not predict contribute nothing and are listed in `missing`.
  public func score(_ probabilities: [String: Double]) -> (score: Double, contributions: [(head: String, value: Double)], missing: [String]) {
    var total = 0.0
    var parts: [(String, Double)] = []
    var missing: [String] = []
    for (head, w) in weights {
      guard let p = probabilities[head] else { missing.append(head); continue }
      parts.append((head, w * p))
      total += w * p
    }
    return (total, parts, missing)
  }
}

public struct ScoreError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
