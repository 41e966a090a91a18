import Foundation
import TMLData
import TMLTensor

/// `tml bench data`: reading + parsing a gzip TFRecord file of tf.Examples with the
/// production ranker's full schema (6000 continuous, 512 binary, 320 discrete, three
/// 200-d embeddings, 13 labels) into `RecapBatch`es, single-threaded and through the
/// pipeline with 1 and 2 parse workers.
public struct DataBenchmark {
  public struct Result: Sendable {
    public let label: String
    public let examples: Int
    public let seconds: Double
    public let compressedBytes: Int
    public let uncompressedBytes: Int
    public var examplesPerSecond: Double { Double(examples) / seconds }
    public var compressedMBPerSecond: Double { Double(compressedBytes) / seconds / 1e6 }
    public var uncompressedMBPerSecond: Double { Double(uncompressedBytes) / seconds / 1e6 }
  }

  public var examples: Int
  public var batchSize = 128
  public let directory: URL

  public init(quick: Bool, directory: URL? = nil) {
    examples = quick ? 1_024 : 4_096
    self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("swifttml-bench-data-\(getpid())")
  }

  /// Writes the benchmark file (random data, reference schema); returns its path.
  public func generate(progress: ((Int) -> Void)? = nil) throws -> String {
    let data = RandomRecapData(schema: try ReferenceRecapData.schema(), config: ReferenceRecapData.dataConfig(), seed: 1)
    return try data.write(examples: examples, files: 1, to: directory, prefix: "bench", progress: progress)[0]
  }

  public func run(file: String) throws -> [Result] {
    let builder = try RecapBatchBuilder(schema: try ReferenceRecapData.schema(), config: ReferenceRecapData.dataConfig(batchSize: batchSize))
    let compressed = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
    var results: [Result] = []

    // One core: read, gunzip, frame, parse and batch in this thread only.
    var t0 = Stopwatch.now()
    let reader = try TFRecordReader(path: file)
    var chunk: [RawRecord] = []
    var count = 0, rawBytes = 0
    while let bytes = try reader.next() {
      rawBytes += bytes.count + 16
      chunk.append(RawRecord(bytes: bytes, file: file, index: count))
      count += 1
      if chunk.count == batchSize { _ = try builder.build(chunk); chunk = [] }
    }
    if !chunk.isEmpty { _ = try builder.build(chunk) }
    results.append(Result(label: "1 thread (read+parse inline)", examples: count, seconds: Stopwatch.now() - t0,
                          compressedBytes: compressed, uncompressedBytes: rawBytes))

    for workers in [1, 2] {
      t0 = Stopwatch.now()
      let pipe = try BatchPipeline<RecapBatch>(
        files: [file], options: .init(batchSize: batchSize, shuffleBufferSize: 1, workerThreads: workers, dropRemainder: false)
      ) { records, skip in try builder.build(records, skippingBadRecords: skip) }
      var seen = 0
      while let b = try pipe.next() { seen += b.size }
      results.append(Result(label: "pipeline, reader + \(workers) parse worker\(workers > 1 ? "s" : "")", examples: seen,
                            seconds: Stopwatch.now() - t0, compressedBytes: compressed, uncompressedBytes: rawBytes))
    }
    return results
  }

  public func cleanUp() { try? FileManager.default.removeItem(at: directory) }
}
