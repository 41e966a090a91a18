import Foundation
import XCTest
@testable import TMLData

/// `BatchPipeline.bytesRead` / `fileBytes`: the progress of a pass in input bytes.
final class PipelineProgressTests: XCTestCase {
  func testBytesReadGrowsToTheSizeOfTheFilesAtTheEndOfAnEpoch() throws {
    let dir = try RecapTestSupport.makeTemporaryDirectory("pipeline-progress")
    defer { try? FileManager.default.removeItem(at: dir) }
    var paths: [String] = []
    for (f, compressed) in [(0, true), (1, false)] {
      let path = dir.appendingPathComponent("part-\(f).tfrecord\(compressed ? ".gz" : "")").path
      let w = try TFRecordWriter(path: path, compressed: compressed)
      for i in 0..<3000 { try w.write([UInt8](repeating: UInt8(i % 251), count: 500)) }
      try w.close()
      paths.append(path)
    }
    let sizes = try paths.map { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) }
    let pipe = try BatchPipeline(files: paths, options: .init(batchSize: 100, shuffleBufferSize: 1, prefetchBatches: 1)) { r, _ in (r.count, []) }
    XCTAssertEqual(pipe.fileBytes, sizes.reduce(0, +))
    var seen: [Int] = []
    while try pipe.next() != nil { seen.append(pipe.bytesRead) }
    XCTAssertEqual(seen, seen.sorted(), "never decreases")
    XCTAssertLessThan(seen[0], pipe.fileBytes, "counted while reading, not only at the end")
    XCTAssertEqual(pipe.bytesRead, pipe.fileBytes)
  }
}
