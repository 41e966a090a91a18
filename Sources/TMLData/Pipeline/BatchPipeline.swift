import Foundation

/// The input pipeline: files → (shard) → records, read on a producer thread →
/// seeded shuffle buffer → batches of raw records → parsed on `workerThreads` threads →
/// a bounded, in-order prefetch queue that `next()` drains.
///
/// Batches come out in the same order for the same seed whatever the thread count.
/// Reading repeats over the files for `epochs` passes (nil: forever). Bad records
/// (CRC, framing, parse errors) stop the pipeline with an error naming file and record,
/// or with `ignoreDataErrors` are skipped and counted per file in `skipped` (how many,
/// and the first error of each file).
///
///     let pipe = try BatchPipeline(files: paths, options: .init(batchSize: 128, seed: 1)) { records, skipBad in
///       try builder.build(records, skippingBadRecords: skipBad)
///     }
///     while let batch = try pipe.next() { … }
public final class BatchPipeline<Batch> {
  public struct Options: Sendable {
    public var batchSize: Int
    public var shuffleBufferSize: Int
    public var seed: UInt64
    public var workerThreads: Int
    public var prefetchBatches: Int
    public var dropRemainder: Bool
    public var epochs: Int?
    public var ignoreDataErrors: Bool

    public init(batchSize: Int, shuffleBufferSize: Int = 1024, seed: UInt64 = 0, workerThreads: Int = 1,
                prefetchBatches: Int = 4, dropRemainder: Bool = true, epochs: Int? = 1, ignoreDataErrors: Bool = false) {
      self.batchSize = batchSize
      self.shuffleBufferSize = shuffleBufferSize
      self.seed = seed
      self.workerThreads = workerThreads
      self.prefetchBatches = prefetchBatches
      self.dropRemainder = dropRemainder
      self.epochs = epochs
      self.ignoreDataErrors = ignoreDataErrors
    }
  }

  /// Builds a batch from raw records; the second result lists records it skipped
  /// (only when asked to skip bad records).
  public typealias Builder = ([RawRecord], _ skipBad: Bool) throws -> (Batch, skipped: [SkippedRecord])

  private let core: PipelineCore<Batch>

  public init(files: [String], options: Options, build: @escaping Builder) throws {
    core = try PipelineCore(files: files, options: options, build: build)
  }

  /// Stops the worker threads; called when the pipeline is released.
  deinit { core.stop() }

  public var files: [String] { core.files }
  public var options: Options { core.options }
  /// Records skipped because of data errors (with `ignoreDataErrors`), in all files.
  public var skippedRecords: Int { core.skipped.total }
  /// Records skipped because of data errors, per file, with each file's first error.
  /// Counts grow as the pipeline reads (it reads ahead of `next()` by the prefetch queue).
  public var skipped: SkippedRecords { core.skipped }
  /// Seconds `next()` spent waiting for a batch (pipeline slower than its consumer).
  public var waitSeconds: Double { core.waitSeconds }
  /// Records read from the files so far.
  public var recordsRead: Int { core.recordsRead }
  /// Bytes of the input files read so far (compressed bytes for gzip; updated about
  /// every MiB). With `fileBytes`, the progress of a one-epoch pass.
  public var bytesRead: Int { core.bytesRead }
  /// The total size of the input files (one epoch's `bytesRead`).
  public var fileBytes: Int { core.fileBytes }

  /// The next batch in order, or nil when the data is exhausted.
  public func next() throws -> Batch? { try core.next() }
}

/// The threads and queues behind `BatchPipeline` (threads hold it strongly; the public
/// wrapper stops it when released).
final class PipelineCore<Batch>: @unchecked Sendable {
  public let files: [String]
  let options: BatchPipeline<Batch>.Options
  private let build: BatchPipeline<Batch>.Builder
  private let lock = NSCondition()
  private var pending: [(Int, [RawRecord])] = []
  private var ready: [Int: Batch] = [:]
  private var nextToProduce = 0
  private var nextToConsume = 0
  private var producedAll = false
  private var failure: Error?
  private var stopped = false
  private var skippedRecords = SkippedRecords()
  /// Seconds `next()` spent waiting for a batch (pipeline slower than its consumer).
  public private(set) var waitSeconds: Double = 0
  public private(set) var recordsRead = 0
  let fileBytes: Int
  private var readBytes = 0

  init(files: [String], options: BatchPipeline<Batch>.Options, build: @escaping BatchPipeline<Batch>.Builder) throws {
    guard !files.isEmpty else { throw DataError("input pipeline: no input files (after sharding); check the glob and the number of workers") }
    guard options.batchSize > 0 else { throw DataError("input pipeline: batch size must be positive, got \(options.batchSize)") }
    self.files = files
    self.options = options
    self.build = build
    fileBytes = files.reduce(0) { total, file in
      total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
    }
    let producer = Thread { self.produce() }
    producer.stackSize = 1 << 20
    // Started here and not kept: a Thread retains its block (and so this core) until released.
    var threads = [producer]
    for _ in 0..<max(options.workerThreads, 1) {
      let t = Thread { self.work() }
      t.stackSize = 1 << 20
      threads.append(t)
    }
    for t in threads { t.start() }
  }

  /// Records skipped because of data errors (with `ignoreDataErrors`), per file.
  public var skipped: SkippedRecords { lock.lock(); defer { lock.unlock() }; return skippedRecords }
  /// File bytes the producer has read.
  var bytesRead: Int { lock.lock(); defer { lock.unlock() }; return readBytes }

  /// Stops the threads (also done on deinit).
  public func stop() {
    lock.lock()
    stopped = true
    lock.broadcast()
    lock.unlock()
  }

  /// The next batch in order, or nil when the data is exhausted.
  public func next() throws -> Batch? {
    let t0 = Date()
    lock.lock()
    defer { lock.unlock(); waitSeconds += Date().timeIntervalSince(t0) }
    while true {
      if let e = failure { throw e }
      if let b = ready.removeValue(forKey: nextToConsume) {
        nextToConsume += 1
        lock.broadcast()
        return b
      }
      if producedAll && nextToConsume >= nextToProduce { return nil }
      lock.wait()
    }
  }

  private func fail(_ e: Error) {
    lock.lock()
    if failure == nil { failure = e }
    lock.broadcast()
    lock.unlock()
  }

  /// Reads files, shuffles records and queues raw batches (bounded by `prefetchBatches`).
  private func produce() {
    var shuffle = ShuffleBuffer<RawRecord>(capacity: options.shuffleBufferSize, seed: options.seed)
    var chunk: [RawRecord] = []
    chunk.reserveCapacity(options.batchSize)
    func emit(_ r: RawRecord) -> Bool {
      chunk.append(r)
      guard chunk.count == options.batchSize else { return true }
      defer { chunk = [] }
      return enqueue(chunk)
    }
    do {
      var epoch = 0
      outer: while options.epochs.map({ epoch < $0 }) ?? true {
        for file in files {
          let reader = try TFRecordReader(path: file, ignoreDataErrors: options.ignoreDataErrors)
          var index = 0, counted = 0
          var countedBytes = 0
          // Counts the records the reader skipped since the last call; they come before record `index`.
          func countReaderSkips() {
            guard reader.skippedRecords > counted else { return }
            lock.lock()
            skippedRecords.add(file: file, count: reader.skippedRecords - counted, beforeRecord: index, unparseable: false,
                               message: counted < reader.skippedErrors.count ? reader.skippedErrors[counted] : "\(file): unreadable record")
            lock.unlock()
            counted = reader.skippedRecords
          }
          func countBytes() {
            let now = reader.fileBytesRead
            lock.lock()
            readBytes += now - countedBytes
            lock.unlock()
            countedBytes = now
          }
          while let bytes = try reader.next() {
            countReaderSkips()
            let record = RawRecord(bytes: bytes, file: file, index: index)
            index += 1
            if reader.fileBytesRead - countedBytes >= 1 << 20 { countBytes() }
            if let out = options.shuffleBufferSize > 1 ? shuffle.push(record) : record {
              if !emit(out) { break outer }
            }
          }
          countReaderSkips()
          countBytes()
          lock.lock()
          recordsRead += reader.recordsRead
          lock.unlock()
          if reader.recordsRead == 0 && reader.skippedRecords == 0 && epoch == 0 && options.epochs == nil {
            throw DataError("\(file): contains no records; an endless pipeline over empty files would never produce a batch")
          }
        }
        epoch += 1
      }
      for r in shuffle.drain() { if !emit(r) { break } }
      if !chunk.isEmpty && !options.dropRemainder { _ = enqueue(chunk) }
      lock.lock()
      producedAll = true
      lock.broadcast()
      lock.unlock()
    } catch {
      fail(error)
    }
  }

  private func enqueue(_ records: [RawRecord]) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    while !stopped && failure == nil && nextToProduce - nextToConsume >= max(options.prefetchBatches, 1) { lock.wait() }
    if stopped || failure != nil { return false }
    pending.append((nextToProduce, records))
    nextToProduce += 1
    lock.broadcast()
    return true
  }

  private func work() {
    while true {
      lock.lock()
      while pending.isEmpty && !stopped && !(producedAll) && failure == nil { lock.wait() }
      if stopped || failure != nil || pending.isEmpty { lock.unlock(); return }
      let (seq, records) = pending.removeFirst()
      lock.unlock()
      do {
        let (batch, bad) = try build(records, options.ignoreDataErrors)
        lock.lock()
        ready[seq] = batch
        skippedRecords.add(bad)
        lock.broadcast()
        lock.unlock()
      } catch {
        fail(error)
        return
      }
    }
  }
}
