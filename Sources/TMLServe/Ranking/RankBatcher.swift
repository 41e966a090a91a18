import Foundation
import TMLData

/// Micro-batching of ranking requests: concurrent requests' candidates are concatenated
/// into one forward pass of at most `maxBatch` rows. A dedicated thread takes the queue's
/// oldest request and waits until either `maxBatch` rows are queued or `maxWait` has
/// passed since that request arrived, then takes whole requests in arrival order while
/// they fit and scores them in one pass. Only a request larger than `maxBatch` is split,
/// over consecutive passes, all by the same model: each
/// request is pinned to the model of its first pass, so a reload between two passes never
/// mixes models within one reply. The model is only read; passes run one at a time, each
/// using all cores inside its GEMMs.
///
///     let batcher = RankBatcher(maxBatch: 512, maxWaitMicroseconds: 1000, currentRanker: { store.ranker })
///     let result = try await batcher.score(records)   // from any number of concurrent tasks
public final class RankBatcher: @unchecked Sendable {
  /// The outcome of one request: the model that scored it, per candidate its output row
  /// (logits, probabilities, calibrated: `tasks` values each) or its parse error.
  public struct Result: Sendable {
    public let ranker: LoadedRanker
    public let tasks: Int
    public var logits: [Float]
    public var probabilities: [Float]
    public var calibrated: [Float]
    /// Candidate index → why its record was refused (no output row then; its values are 0).
    public var refused: [Int: String]
  }

  private final class Job {
    let records: [[UInt8]]
    let arrived: UInt64
    var next = 0
    var done = 0
    var ranker: LoadedRanker?
    var result: Result?
    let continuation: CheckedContinuation<Result, Error>
    init(records: [[UInt8]], arrived: UInt64, continuation: CheckedContinuation<Result, Error>) {
      self.records = records
      self.arrived = arrived
      self.continuation = continuation
    }
  }

  public let maxBatch: Int
  public let maxWaitNanoseconds: UInt64
  private let currentRanker: @Sendable () -> LoadedRanker?
  private let onPass: @Sendable (_ rows: Int, _ seconds: Double) -> Void
  private let condition = NSCondition()
  private var queue: [Job] = []
  private var queuedRows = 0
  private var stopped = false
  private var thread: Thread?

  /// `currentRanker` is read at the start of each pass for requests not yet pinned;
  /// `onPass` is told each pass's row count and duration (metrics).
  public init(maxBatch: Int, maxWaitMicroseconds: Int, currentRanker: @escaping @Sendable () -> LoadedRanker?,
              onPass: @escaping @Sendable (Int, Double) -> Void = { _, _ in }) {
    self.maxBatch = max(1, maxBatch)
    self.maxWaitNanoseconds = UInt64(max(0, maxWaitMicroseconds)) * 1000
    self.currentRanker = currentRanker
    self.onPass = onPass
    let thread = Thread { self.loop() }  // keeps the batcher alive until `stop()`
    thread.name = "tml-serve-batcher"
    self.thread = thread
    thread.start()
  }

  /// Scores `records` (serialized tf.Examples) in the next passes. Throws 503 when the
  /// batcher has stopped or no model is loaded.
  public func score(_ records: [[UInt8]]) async throws -> Result {
    guard !records.isEmpty else {
      guard let ranker = currentRanker() else { throw ServeError.unavailable("the ranker is still loading; retry when /readyz answers 200") }
      return Result(ranker: ranker, tasks: ranker.taskNames.count, logits: [], probabilities: [], calibrated: [], refused: [:])
    }
    return try await withCheckedThrowingContinuation { c in
      condition.lock()
      if stopped {
        condition.unlock()
        c.resume(throwing: ServeError.unavailable("the server is shutting down"))
        return
      }
      queue.append(Job(records: records, arrived: DispatchTime.now().uptimeNanoseconds, continuation: c))
      queuedRows += records.count
      condition.signal()
      condition.unlock()
    }
  }

  /// Stops the thread after the pass in progress; queued requests fail with 503.
  public func stop() {
    condition.lock()
    stopped = true
    let pending = queue
    queue = []
    queuedRows = 0
    condition.signal()
    condition.unlock()
    for job in pending { job.continuation.resume(throwing: ServeError.unavailable("the server is shutting down")) }
  }

  private func loop() {
    while true {
      condition.lock()
      while queue.isEmpty && !stopped { condition.wait() }
      if stopped { condition.unlock(); return }
      let deadline = queue[0].arrived + maxWaitNanoseconds
      while queuedRows < maxBatch && !stopped {
        let now = DispatchTime.now().uptimeNanoseconds
        if now >= deadline { break }
        _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
      }
      if stopped { condition.unlock(); return }
      // The pass's model: the oldest request's pinned one, else the current one.
      guard let ranker = queue[0].ranker ?? currentRanker() else {
        let failed = queue
        queue = []
        queuedRows = 0
        condition.unlock()
        for job in failed { job.continuation.resume(throwing: ServeError.unavailable("the ranker is not loaded")) }
        continue
      }
      var taken: [(job: Job, range: Range<Int>)] = []
      var rows = 0
      // Whole requests in arrival order while they fit; only a request larger than the
      // pass itself is split (the first one taken).
      for job in queue where job.ranker == nil || job.ranker === ranker {
        let remaining = job.records.count - job.next
        guard rows == 0 || rows + remaining <= maxBatch else { break }
        let n = min(remaining, maxBatch - rows)
        taken.append((job, job.next..<(job.next + n)))
        job.next += n
        job.ranker = ranker
        rows += n
      }
      queue.removeAll { $0.next == $0.records.count }
      queuedRows -= rows
      condition.unlock()
      run(ranker, taken, rows: rows)
    }
  }

  private func run(_ ranker: LoadedRanker, _ taken: [(job: Job, range: Range<Int>)], rows: Int) {
    var records: [RawRecord] = []
    records.reserveCapacity(rows)
    for (job, range) in taken {
      for i in range { records.append(RawRecord(bytes: job.records[i], file: "candidates", index: records.count)) }
    }
    let start = DispatchTime.now().uptimeNanoseconds
    let scores: LoadedRanker.Scores
    do {
      scores = try ranker.score(records)
    } catch {
      for (job, _) in taken { finish(job, with: .failure(ServeError(500, "forward pass failed: \(error)"))) }
      return
    }
    onPass(rows, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    let t = ranker.taskNames.count
    var position = 0
    for (job, range) in taken {
      if job.result == nil {
        let zeros = [Float](repeating: 0, count: job.records.count * t)
        job.result = Result(ranker: ranker, tasks: t, logits: zeros, probabilities: zeros, calibrated: zeros, refused: [:])
      }
      for i in range {
        if let row = scores.rowOfRecord[position] {
          for k in 0..<t {
            job.result!.logits[i * t + k] = scores.logits[row * t + k]
            job.result!.probabilities[i * t + k] = scores.probabilities[row * t + k]
            job.result!.calibrated[i * t + k] = scores.calibrated[row * t + k]
          }
        } else {
          job.result!.refused[i] = scores.refused[position] ?? "the record does not parse"
        }
        position += 1
      }
      job.done += range.count
      if job.done == job.records.count { finish(job, with: .success(job.result!)) }
    }
  }

  private func finish(_ job: Job, with outcome: Swift.Result<Result, Error>) {
    condition.lock()
    // A failed pass fails the whole request; drop any rows of it still queued.
    if case .failure = outcome, let i = queue.firstIndex(where: { $0 === job }) {
      queuedRows -= job.records.count - job.next
      queue.remove(at: i)
    }
    job.done = job.records.count
    condition.unlock()
    switch outcome {
    case .success(let r): job.continuation.resume(returning: r)
    case .failure(let e): job.continuation.resume(throwing: e)
    }
  }
}
