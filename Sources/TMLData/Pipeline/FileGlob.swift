import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shell-style file globs (`data/part-*.tfrecord.gz`), sorted, and sharding of the
/// result across workers. A path that exists is taken as written, even when its name
/// has glob characters (`data[1].tfrecord`, `a*b.gz`).
public enum FileGlob {
  /// Paths matching `pattern`, sorted; `[pattern]` when a file of that exact name exists.
  /// A pattern without wildcards must name a file.
  public static func expand(_ pattern: String) throws -> [String] {
    if pattern.hasPrefix("gs://") || pattern.hasPrefix("s3://") || pattern.hasPrefix("hdfs://") {
      throw DataError("\(pattern): cannot read remote (\(pattern.prefix { $0 != ":" })://) paths; download the files and point the config at a local path or glob")
    }
    if FileManager.default.fileExists(atPath: pattern) { return [pattern] }
    var g = glob_t()
    defer { globfree(&g) }
    let rc = glob(pattern, 0, nil, &g)
    guard rc == 0 else {
      throw DataError("\(pattern): no files match this glob; check the data path (inputs / data_root)")
    }
    var out: [String] = []
    for i in 0..<Int(g.gl_pathc) {
      if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
    }
    return out.sorted()
  }

  /// The files of worker `rank` out of `worldSize`: every worldSize-th file from `rank`.
  public static func shard(_ files: [String], rank: Int, worldSize: Int) throws -> [String] {
    guard worldSize >= 1, rank >= 0, rank < worldSize else {
      throw DataError("data sharding: rank \(rank) must be in 0..<world size \(worldSize)")
    }
    return files.enumerated().filter { $0.offset % worldSize == rank }.map(\.element)
  }
}
