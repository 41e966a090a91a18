import Foundation
import SwiftProtobuf
import TMLTensor
import XCTest
@testable import TMLData

final class PipelineTests: XCTestCase {
  typealias S = RecapTestSupport
  var dir: URL!

  override func setUpWithError() throws { dir = try S.makeTemporaryDirectory("pipeline") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  // MARK: - FileGlob

  func touch(_ names: [String]) throws {
    for n in names {
      let url = dir.appendingPathComponent(n)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data([1]).write(to: url)
    }
  }

  func testGlobExpandsSorted() throws {
    try touch(["part-3.tfrecord.gz", "part-10.tfrecord.gz", "part-1.tfrecord.gz", "part-2.tfrecord", "other.txt", "sub/part-9.tfrecord.gz"])
    let d = dir.path
    XCTAssertEqual(try FileGlob.expand("\(d)/part-*.tfrecord.gz"), ["part-1", "part-10", "part-3"].map { "\(d)/\($0).tfrecord.gz" })
    XCTAssertEqual(try FileGlob.expand("\(d)/part-?.tfrecord*"), ["part-1.tfrecord.gz", "part-2.tfrecord", "part-3.tfrecord.gz"].map { "\(d)/\($0)" })
    XCTAssertEqual(try FileGlob.expand("\(d)/*/part-*"), ["\(d)/sub/part-9.tfrecord.gz"])
    XCTAssertEqual(try FileGlob.expand("\(d)/other.txt"), ["\(d)/other.txt"])
    let all = try FileGlob.expand("\(d)/*")
    XCTAssertEqual(all, all.sorted())
  }

  func testGlobTakesAnExistingPathWithGlobCharactersAsWritten() throws {
    try touch(["data[1].tfrecord", "data1.tfrecord", "a*b.gz", "aXb.gz", "q?.gz", "qq.gz"])
    let d = dir.path
    XCTAssertEqual(try FileGlob.expand("\(d)/data[1].tfrecord"), ["\(d)/data[1].tfrecord"])
    XCTAssertEqual(try FileGlob.expand("\(d)/a*b.gz"), ["\(d)/a*b.gz"])
    XCTAssertEqual(try FileGlob.expand("\(d)/q?.gz"), ["\(d)/q?.gz"])
    // A pattern that is not itself a file still globs.
    XCTAssertEqual(try FileGlob.expand("\(d)/data[12].tfrecord"), ["\(d)/data1.tfrecord"])
    XCTAssertEqual(try FileGlob.expand("\(d)/a?b.gz"), ["\(d)/a*b.gz", "\(d)/aXb.gz"])
  }

  func testGlobWithoutMatchesOrRemotePathIsAnError() throws {
    let pattern = dir.appendingPathComponent("nothing-*.tfrecord").path
    S.assertDataError([pattern, "no files match"]) { try FileGlob.expand(pattern) }
    let plain = dir.appendingPathComponent("absent.tfrecord").path
    S.assertDataError([plain]) { try FileGlob.expand(plain) }
    S.assertDataError(["gs://bucket/data/*.tfrecord.gz", "gs://"]) { try FileGlob.expand("gs://bucket/data/*.tfrecord.gz") }
    S.assertDataError(["s3://"]) { try FileGlob.expand("s3://b/x") }
  }

  func testShardTakesEveryWorldSizeThFile() throws {
    let files = (0..<7).map { "f\($0)" }
    XCTAssertEqual(try FileGlob.shard(files, rank: 0, worldSize: 1), files)
    XCTAssertEqual(try FileGlob.shard(files, rank: 0, worldSize: 3), ["f0", "f3", "f6"])
    XCTAssertEqual(try FileGlob.shard(files, rank: 1, worldSize: 3), ["f1", "f4"])
    XCTAssertEqual(try FileGlob.shard(files, rank: 2, worldSize: 3), ["f2", "f5"])
    let union = try (0..<3).flatMap { try FileGlob.shard(files, rank: $0, worldSize: 3) }
    XCTAssertEqual(union.sorted(), files)
    XCTAssertEqual(try FileGlob.shard(["a"], rank: 1, worldSize: 2), [])
    S.assertDataError(["rank 3", "world size 3"]) { try FileGlob.shard(files, rank: 3, worldSize: 3) }
    S.assertDataError(["rank -1"]) { try FileGlob.shard(files, rank: -1, worldSize: 2) }
    S.assertDataError(["world size 0"]) { try FileGlob.shard(files, rank: 0, worldSize: 0) }
  }

  // MARK: - ShuffleBuffer

  func shuffled(_ n: Int, capacity: Int, seed: UInt64) -> [Int] {
    var buffer = ShuffleBuffer<Int>(capacity: capacity, seed: seed)
    var out: [Int] = []
    for i in 0..<n { if let x = buffer.push(i) { out.append(x) } }
    return out + buffer.drain()
  }

  func testShuffleBufferIsADeterministicPermutation() {
    for (n, capacity) in [(1000, 64), (50, 64), (0, 8), (300, 300)] {
      let a = shuffled(n, capacity: capacity, seed: 9)
      XCTAssertEqual(a.sorted(), Array(0..<n), "n \(n) capacity \(capacity)")
      XCTAssertEqual(a, shuffled(n, capacity: capacity, seed: 9))
      if n > 10 {
        XCTAssertNotEqual(a, Array(0..<n))
        XCTAssertNotEqual(a, shuffled(n, capacity: capacity, seed: 10))
      }
    }
    // Capacity 1 (or less) keeps the order; nothing is emitted before the buffer is full.
    XCTAssertEqual(shuffled(20, capacity: 1, seed: 3), Array(0..<20))
    XCTAssertEqual(shuffled(20, capacity: 0, seed: 3), Array(0..<20))
    var b = ShuffleBuffer<Int>(capacity: 4, seed: 1)
    XCTAssertEqual((0..<4).compactMap { b.push($0) }, [])
    XCTAssertNotNil(b.push(4))
  }

  func testShuffleBufferMovesItemsFarWithALargeBuffer() {
    // With capacity 64, an element can leave much later than it came in: the first 64
    // outputs are not just the first 64 inputs in another order.
    let a = shuffled(1000, capacity: 64, seed: 5)
    XCTAssertTrue(a.prefix(64).contains { $0 >= 64 })
    XCTAssertTrue(a.prefix(200).contains { $0 < 20 })
  }

  // MARK: - BatchPipeline

  static let schema = try! SegdenseSchema(features: [
    .init(featureName: "cont", dtype: .floatList, length: 2),
    .init(featureName: "label", dtype: .int64List, length: 1),
    .init(featureName: "meta.id", dtype: .int64List, length: 1),
  ])
  static let config = RecapDataConfig(
    inputs: "", globalBatchSize: 8,
    segDenseSchema: .init(schemaPath: "<test>", renamedFeatures: ["continuous": "cont", "meta__id": "meta.id"]),
    tasks: [("label", .init())])

  static func example(id: Int64, contLength: Int = 2) throws -> [UInt8] {
    try S.serialize([
      "cont": .floats((0..<contLength).map { Float(id) + Float($0) / 4 }),
      "label": .int64s([id % 3 == 0 ? 1 : 0]), "meta.id": .int64s([id]),
    ])
  }

  /// `files` files of `perFile` records with ids file·1000 + i; even files plain, odd gzip.
  func writeFiles(_ files: Int = 4, perFile: Int = 25) throws -> (paths: [String], ids: [Int64]) {
    var paths: [String] = [], ids: [Int64] = []
    for f in 0..<files {
      let path = dir.appendingPathComponent("part-\(f).tfrecord\(f % 2 == 1 ? ".gz" : "")").path
      let fileIDs = (0..<perFile).map { Int64(f * 1000 + $0) }
      try S.writeTFRecord(try fileIDs.map { try Self.example(id: $0) }, to: path, compressed: f % 2 == 1)
      paths.append(path)
      ids += fileIDs
    }
    return (paths, ids)
  }

  func pipeline(_ files: [String], _ options: BatchPipeline<RecapBatch>.Options) throws -> BatchPipeline<RecapBatch> {
    let builder = try RecapBatchBuilder(schema: Self.schema, config: Self.config)
    return try BatchPipeline(files: files, options: options) { records, skip in
      let (batch, skipped) = try builder.build(records, skippingBadRecords: skip)
      return (batch, skipped)
    }
  }

  /// Ids of each batch, checking each batch's rows are consistent with its ids.
  func drain(_ pipe: BatchPipeline<RecapBatch>, limit: Int = 10_000) throws -> [[Int64]] {
    var out: [[Int64]] = []
    while out.count < limit, let b = try pipe.next() {
      let ids = try XCTUnwrap(b.meta["meta__id"])
      XCTAssertEqual(ids.count, b.size)
      for (r, id) in ids.enumerated() {
        XCTAssertEqual(b.continuous[r, 0], Float(id))
        XCTAssertEqual(b.labels[r, 0], id % 3 == 0 ? 1 : 0)
      }
      out.append(ids)
    }
    return out
  }

  func testEveryRecordExactlyOnceWithTheRemainder() throws {
    let (paths, ids) = try writeFiles()
    let pipe = try pipeline(paths, .init(batchSize: 8, shuffleBufferSize: 16, seed: 1, workerThreads: 2, dropRemainder: false))
    let batches = try drain(pipe)
    XCTAssertEqual(batches.map(\.count), [Int](repeating: 8, count: 12) + [4])
    XCTAssertEqual(batches.flatMap { $0 }.sorted(), ids)
    XCTAssertNotEqual(batches.flatMap { $0 }, ids, "records should be shuffled")
    XCTAssertNil(try pipe.next())
    XCTAssertNil(try pipe.next())
    XCTAssertEqual(pipe.recordsRead, 100)
    XCTAssertEqual(pipe.skippedRecords, 0)
    XCTAssertGreaterThanOrEqual(pipe.waitSeconds, 0)
  }

  func testDropRemainderDropsOnlyThePartialBatch() throws {
    let (paths, ids) = try writeFiles()
    let batches = try drain(try pipeline(paths, .init(batchSize: 8, shuffleBufferSize: 16, seed: 1, workerThreads: 2, dropRemainder: true)))
    XCTAssertEqual(batches.map(\.count), [Int](repeating: 8, count: 12))
    let seen = batches.flatMap { $0 }
    XCTAssertEqual(Set(seen).count, 96)
    XCTAssertTrue(Set(seen).isSubset(of: Set(ids)))
    // Exact multiple: nothing is dropped.
    let exact = try drain(try pipeline(paths, .init(batchSize: 10, shuffleBufferSize: 16, seed: 1, dropRemainder: true)))
    XCTAssertEqual(exact.flatMap { $0 }.sorted(), ids)
  }

  func testTwoEpochsSeeEveryRecordTwice() throws {
    let (paths, ids) = try writeFiles()
    let shuffledIDs = try drain(try pipeline(paths, .init(batchSize: 8, shuffleBufferSize: 32, seed: 4, workerThreads: 2, dropRemainder: false, epochs: 2))).flatMap { $0 }
    XCTAssertEqual(shuffledIDs.count, 200)
    let counts = Dictionary(grouping: shuffledIDs, by: { $0 }).mapValues(\.count)
    XCTAssertEqual(Set(counts.keys), Set(ids))
    XCTAssertEqual(Set(counts.values), [2])
    // Without shuffling each epoch is exactly the files in order.
    let ordered = try drain(try pipeline(paths, .init(batchSize: 8, shuffleBufferSize: 1, seed: 4, workerThreads: 3, dropRemainder: false, epochs: 2))).flatMap { $0 }
    XCTAssertEqual(ordered, ids + ids)
  }

  func testSameSeedGivesTheSameBatchesWhateverTheThreadCount() throws {
    let (paths, _) = try writeFiles()
    func run(seed: UInt64, threads: Int) throws -> [[Int64]] {
      try drain(try pipeline(paths, .init(batchSize: 8, shuffleBufferSize: 24, seed: seed, workerThreads: threads, prefetchBatches: 3, dropRemainder: false, epochs: 2)))
    }
    let one = try run(seed: 42, threads: 1)
    XCTAssertEqual(one.count, 25)
    XCTAssertEqual(try run(seed: 42, threads: 3), one)
    XCTAssertEqual(try run(seed: 42, threads: 3), one)
    XCTAssertNotEqual(try run(seed: 43, threads: 3), one)
  }

  /// The byte offset of record `record` of a plain (uncompressed) TFRecord file.
  func offset(of record: Int, in path: String) throws -> Int {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var offset = 0
    for _ in 0..<record {
      let n = bytes[offset..<(offset + 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
      offset += 16 + n
    }
    return offset
  }

  /// Flips a data byte of record `record` of a plain (uncompressed) TFRecord file.
  func corrupt(_ path: String, record: Int) throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    bytes[try offset(of: record, in: path) + 12 + 3] ^= 0x40
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  func testCorruptedRecordStopsThePipelineWithAnErrorNamingTheFile() throws {
    let (paths, _) = try writeFiles()
    try corrupt(paths[2], record: 7)
    let pipe = try pipeline(paths, .init(batchSize: 8, shuffleBufferSize: 16, seed: 1, workerThreads: 2))
    var batches = 0
    do {
      while try pipe.next() != nil { batches += 1 }
      XCTFail("the corrupted record was not reported")
    } catch let e as DataError {
      XCTAssertTrue(e.message.contains(paths[2]), e.message)
      XCTAssertTrue(e.message.contains("CRC"), e.message)
      XCTAssertTrue(e.message.contains("ignore_data_errors"), e.message)
    }
    XCTAssertLessThan(batches, 13)
    // The error sticks.
    XCTAssertThrowsError(try pipe.next())
  }

  func testIgnoreDataErrorsSkipsAndCountsTheCorruptedRecord() throws {
    let (paths, ids) = try writeFiles()
    try corrupt(paths[2], record: 7)
    let pipe = try pipeline(paths, .init(batchSize: 8, shuffleBufferSize: 16, seed: 1, workerThreads: 2, dropRemainder: false, ignoreDataErrors: true))
    let seen = try drain(pipe).flatMap { $0 }
    XCTAssertEqual(seen.sorted(), ids.filter { $0 != 2007 })
    XCTAssertEqual(pipe.skippedRecords, 1)
    XCTAssertEqual(pipe.skipped.files.map(\.path), [paths[2]])
    XCTAssertTrue(pipe.skipped[paths[2]]?.firstError.contains(paths[2]) ?? false, "\(pipe.skipped)")
  }

  func testUnparseableRecordIsAnErrorOrSkippedAndCounted() throws {
    var (paths, ids) = try writeFiles(2, perFile: 10)
    let bad = dir.appendingPathComponent("bad.tfrecord").path
    try S.writeTFRecord([try Self.example(id: 5000), try Self.example(id: 5001, contLength: 3), try Self.example(id: 5002)], to: bad)
    paths.append(bad)
    ids += [5000, 5002]
    do {
      _ = try drain(try pipeline(paths, .init(batchSize: 4, shuffleBufferSize: 1, dropRemainder: false)))
      XCTFail("the wrong-length record was not reported")
    } catch let e as DataError {
      XCTAssertTrue(e.message.contains(bad) && e.message.contains("record 1") && e.message.contains("cont"), e.message)
    }
    let pipe = try pipeline(paths, .init(batchSize: 4, shuffleBufferSize: 8, workerThreads: 2, dropRemainder: false, ignoreDataErrors: true))
    XCTAssertEqual(try drain(pipe).flatMap { $0 }.sorted(), ids)
    XCTAssertEqual(pipe.skippedRecords, 1)
    XCTAssertTrue(pipe.skipped[bad]?.firstError.contains("record 1") ?? false, "\(pipe.skipped)")
  }

  func testIgnoreDataErrorsCountsSkippedRecordsPerFileWithTheFirstError() throws {
    // Three plain files of 10 records: part-0 clean; part-1 a CRC error at record 1 and an
    // unparseable record at 6; part-2 an unparseable record at 2 and CRC errors at 5 and 7.
    var paths: [String] = [], good: [Int64] = []
    for f in 0..<3 {
      let path = dir.appendingPathComponent("part-\(f).tfrecord").path
      let unparseable = [1: 6, 2: 2][f]
      try S.writeTFRecord(try (0..<10).map { i in try Self.example(id: Int64(f * 1000 + i), contLength: i == unparseable ? 3 : 2) }, to: path)
      let crc = [1: [1], 2: [5, 7]][f] ?? []
      for r in crc { try corrupt(path, record: r) }
      paths.append(path)
      good += (0..<10).filter { $0 != unparseable && !crc.contains($0) }.map { Int64(f * 1000 + $0) }
    }
    let firstCRC = try offset(of: 1, in: paths[1])
    for threads in [1, 3] {
      let pipe = try pipeline(paths, .init(batchSize: 4, shuffleBufferSize: 8, seed: 3, workerThreads: threads, dropRemainder: false, ignoreDataErrors: true))
      XCTAssertEqual(try drain(pipe).flatMap { $0 }.sorted(), good)
      let skipped = pipe.skipped
      XCTAssertEqual(skipped.total, 5)
      XCTAssertEqual(skipped.files.map(\.path), [paths[1], paths[2]])
      XCTAssertEqual(skipped.files.map(\.count), [2, 3])
      let first1 = try XCTUnwrap(skipped[paths[1]]?.firstError)
      XCTAssertTrue(first1.hasPrefix(paths[1]) && first1.contains("CRC") && first1.contains("byte offset \(firstCRC)"), first1)
      let first2 = try XCTUnwrap(skipped[paths[2]]?.firstError)
      XCTAssertTrue(first2.hasPrefix(paths[2]) && first2.contains("record 2") && first2.contains("cont"), first2)
    }
  }

  func testBuilderErrorsReachTheConsumer() throws {
    let (paths, _) = try writeFiles(1, perFile: 10)
    let pipe = try BatchPipeline<Int>(files: paths, options: .init(batchSize: 2, workerThreads: 2)) { records, _ in
      if records.contains(where: { $0.index == 5 }) { throw DataError("boom at record 5") }
      return (records.count, [])
    }
    XCTAssertThrowsError(try { while try pipe.next() != nil {} }()) { XCTAssertEqual(($0 as? DataError)?.message, "boom at record 5") }
  }

  func testInvalidPipelinesAreErrors() throws {
    S.assertDataError(["no input files"]) { try BatchPipeline<Int>(files: [], options: .init(batchSize: 4)) { r, _ in (r.count, []) } }
    let (paths, _) = try writeFiles(1, perFile: 2)
    S.assertDataError(["batch size", "0"]) { try BatchPipeline<Int>(files: paths, options: .init(batchSize: 0)) { r, _ in (r.count, []) } }
    let missing = dir.appendingPathComponent("missing.tfrecord").path
    let pipe = try BatchPipeline<Int>(files: [missing], options: .init(batchSize: 4)) { r, _ in (r.count, []) }
    S.assertDataError([missing]) { try pipe.next() }
    // An endless pipeline over empty files would spin forever: it is an error instead.
    let empty = dir.appendingPathComponent("empty.tfrecord").path
    try S.writeTFRecord([], to: empty)
    let endless = try BatchPipeline<Int>(files: [empty], options: .init(batchSize: 4, epochs: nil)) { r, _ in (r.count, []) }
    S.assertDataError([empty, "no records"]) { try endless.next() }
    // A finite one just ends.
    let finite = try BatchPipeline<Int>(files: [empty], options: .init(batchSize: 4, dropRemainder: false)) { r, _ in (r.count, []) }
    XCTAssertNil(try finite.next())
  }

  final class Sentinel: @unchecked Sendable {
    let lock = NSLock()
    var calls = 0
    func bump() { lock.lock(); calls += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return calls }
  }

  func testReleasingAPipelineMidStreamDoesNotHang() throws {
    let (paths, _) = try writeFiles(2, perFile: 20)
    let sentinel = Sentinel()
    do {
      var pipe: BatchPipeline<[Int]>? = try BatchPipeline(
        files: paths, options: .init(batchSize: 4, shuffleBufferSize: 8, seed: 2, workerThreads: 3, prefetchBatches: 2, epochs: nil)
      ) { [sentinel] records, _ in
        sentinel.bump()
        return (records.map(\.index), [])
      }
      for _ in 0..<5 { XCTAssertEqual(try pipe?.next()?.count, 4) }
      pipe = nil  // released with the producer blocked on a full prefetch queue and workers waiting
    }
    // The threads wind down: the builder is not called any more.
    Thread.sleep(forTimeInterval: 0.2)
    let calls = sentinel.count
    Thread.sleep(forTimeInterval: 0.3)
    XCTAssertEqual(sentinel.count, calls)
    XCTAssertLessThanOrEqual(calls, 5 + 2 + 3)
  }

  func testAReleasedPipelineIsFreed() throws {
    let (paths, _) = try writeFiles(1, perFile: 10)
    for consumeAll in [true, false] {
      weak var capturedOnlyByTheBuilder: Sentinel?
      do {
        let owned = Sentinel()
        capturedOnlyByTheBuilder = owned
        let pipe = try BatchPipeline<Int>(files: paths, options: .init(batchSize: 3, prefetchBatches: 1, dropRemainder: false, epochs: consumeAll ? 1 : nil)) { r, _ in
          owned.bump()
          return (r.count, [])
        }
        if consumeAll { while try pipe.next() != nil {} } else { _ = try pipe.next() }
      }
      let deadline = Date().addingTimeInterval(2)
      while capturedOnlyByTheBuilder != nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
      XCTAssertNil(capturedOnlyByTheBuilder, "pipeline (consumed to the end: \(consumeAll)) still alive 2 s after release")
    }
  }

  func testReleasingAPipelineThatWasNeverReadDoesNotHang() throws {
    let (paths, _) = try writeFiles(1, perFile: 30)
    for threads in [1, 4] {
      var pipe: BatchPipeline<Int>? = try BatchPipeline(files: paths, options: .init(batchSize: 2, workerThreads: threads, prefetchBatches: 1, epochs: nil)) { r, _ in (r.count, []) }
      XCTAssertNotNil(pipe)
      pipe = nil
    }
    // And one released after it finished.
    var done: BatchPipeline<Int>? = try BatchPipeline(files: paths, options: .init(batchSize: 7, dropRemainder: false)) { r, _ in (r.count, []) }
    var total = 0
    while let n = try done?.next() { total += n }
    XCTAssertEqual(total, 30)
    done = nil
  }
}
