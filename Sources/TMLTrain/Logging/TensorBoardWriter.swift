import Foundation
import SwiftProtobuf
import TMLData
import TMLIO

/// Writes TensorBoard scalar summaries: an event file
/// `<dir>/events.out.tfevents.<seconds>.<host>` is a TFRecord file of `Event` protos,
/// the first with `file_version = "brain.Event:2"`, then one `Event{step, summary{value
/// {tag, simple_value}}}` per logged step. TensorBoard and `tensorboard.backend.
/// event_processing` read it. A failed write (a full disk) throws a `FileError` naming
/// the event file.
///
///     let tb = try TensorBoardWriter(directory: saveDir.appendingPathComponent("tensorboard/train"))
///     try tb.add(["loss": 0.69], step: 10); try tb.close()
public final class TensorBoardWriter {
  public let path: String
  private let writer: TFRecordWriter

  public convenience init(directory: URL) throws {
    do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
      throw DataError("\(directory.path): cannot create the TensorBoard directory (\(FileError.reason(of: error)))")
    }
    let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
    let name = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(getpid())"
    try self.init(file: directory.appendingPathComponent(name).path)
  }

  /// Writes the event file `path` (its directory must exist).
  public init(file path: String) throws {
    self.path = path
    writer = try TFRecordWriter(path: path, compressed: false)
    var first = Tensorboard_Event()
    first.wallTime = Date().timeIntervalSince1970
    first.fileVersion = "brain.Event:2"
    try write(first)
  }

  private func write(_ event: Tensorboard_Event) throws {
    let bytes: [UInt8] = try event.serializedBytes()
    try writer.write(bytes)
  }

  /// Scalars at `step` (NaN and ±Inf are written as they are; TensorBoard shows them).
  public func add(_ scalars: [String: Double], step: Int) throws {
    var event = Tensorboard_Event()
    event.wallTime = Date().timeIntervalSince1970
    event.step = Int64(step)
    var summary = Tensorboard_Summary()
    for (tag, v) in scalars.sorted(by: { $0.key < $1.key }) {
      var value = Tensorboard_Summary.Value()
      value.tag = tag
      value.simpleValue = Float(v)
      summary.value.append(value)
    }
    event.summary = summary
    try write(event)
  }

  public func close() throws { try writer.close() }
}
