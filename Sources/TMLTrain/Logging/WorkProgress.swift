/// How far a long job is — an evaluation, a prediction pass, ranking against all
/// candidates — for the caller to show (the CLI draws a bar with ETA; the library never
/// prints). The reports of one job share its `label`, `done` never decreases, and the
/// last report has `done == total` (when a job ends early, e.g. its data runs out, the
/// last report lowers `total` to `done`).
///
///     try run.predict(model: m, inputGlob: g, output: o) { p in print("\(p.label) \(p.done)/\(p.total) \(p.unit)") }
public struct WorkProgress: Equatable, Sendable {
  /// What `done` and `total` count.
  public enum Unit: String, Sendable {
    case batches, edges, files
    /// Input file bytes read (when the number of examples is unknown in advance).
    case bytes
  }

  public var label: String
  public var done: Int
  public var total: Int
  public var unit: Unit

  public init(_ label: String, done: Int, total: Int, unit: Unit) {
    self.label = label
    self.done = done
    self.total = total
    self.unit = unit
  }

  public var isFinished: Bool { done >= total }
}
