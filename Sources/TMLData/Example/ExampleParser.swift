/// A fast, allocation-light decoder of serialized `tf.Example` records that writes the
/// values of selected features straight into caller-provided rows.
///
/// Wire format: Example{1: Features}; Features{1: repeated map entry {1: key, 2: Feature}};
/// Feature = oneof {1: BytesList{1: bytes*}, 2: FloatList{1: float* (packed or not)},
/// 3: Int64List{1: int64* (packed or not)}}. Unknown fields are skipped; a later entry
/// for the same key replaces an earlier one (proto3 map semantics).
/// `tf.Example` encoding and the full message types come from swift-protobuf
/// (`Tensorflow_Example`); this parser is the hot path and is tested against them.
public struct ExampleParser {
  /// How a selected feature's values land: `floats` or `int64s` row buffers.
  public enum Kind: Sendable { case float, int64 }

  public struct Slot: Sendable {
    public let name: String
    public let kind: Kind
    public let length: Int
    public init(name: String, kind: Kind, length: Int) {
      self.name = name
      self.kind = kind
      self.length = length
    }
  }

  public let slots: [Slot]
  private let lookup: [[UInt8]: [Int]]

  public init(slots: [Slot]) {
    self.slots = slots
    var l: [[UInt8]: [Int]] = [:]
    for (i, s) in slots.enumerated() { l[Array(s.name.utf8), default: []].append(i) }
    lookup = l
  }

  /// Where each slot's values go for one record: pointers to `length` floats / int64s,
  /// already zeroed by the caller (absent features keep their zeros).
  public struct Destination {
    public var floats: [UnsafeMutablePointer<Float>?]
    public var int64s: [UnsafeMutablePointer<Int64>?]
    public init(floats: [UnsafeMutablePointer<Float>?], int64s: [UnsafeMutablePointer<Int64>?]) {
      self.floats = floats
      self.int64s = int64s
    }
  }

  /// A problem with one record, with the byte offset inside it.
  public struct RecordError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
  }

  /// Parses one record. Returns, per slot, whether the feature was present.
  /// Throws `RecordError` for malformed bytes, a wrong value type or a wrong length.
  public func parse(_ record: UnsafeRawBufferPointer, into dest: Destination) throws -> [Bool] {
    var present = [Bool](repeating: false, count: slots.count)
    do {
      var example = WireReader(record)
      while !example.isAtEnd {
        let (field, wt) = try example.key()
        guard field == 1, wt == .lengthDelimited else { try example.skip(wt); continue }
        let featuresRange = try example.lengthDelimited()
        var features = WireReader(record, from: featuresRange.lowerBound, to: featuresRange.upperBound)
        while !features.isAtEnd {
          let (f, w) = try features.key()
          guard f == 1, w == .lengthDelimited else { try features.skip(w); continue }
          let entryRange = try features.lengthDelimited()
          try parseEntry(record, entryRange, dest, &present)
        }
      }
    } catch let m as WireReader.Malformed {
      throw RecordError(message: "malformed tf.Example: \(m.reason) at byte \(m.offset) of the record")
    }
    return present
  }

  private func parseEntry(_ record: UnsafeRawBufferPointer, _ range: Range<Int>, _ dest: Destination, _ present: inout [Bool]) throws {
    var entry = WireReader(record, from: range.lowerBound, to: range.upperBound)
    var keyRange: Range<Int>? = nil
    var valueRange: Range<Int>? = nil
    while !entry.isAtEnd {
      let (f, w) = try entry.key()
      if f == 1 && w == .lengthDelimited { keyRange = try entry.lengthDelimited() }
      else if f == 2 && w == .lengthDelimited { valueRange = try entry.lengthDelimited() }
      else { try entry.skip(w) }
    }
    let key = keyRange.map { Array(record[$0]) } ?? []
    // A feature may feed several slots (e.g. a label that is also an extra feature).
    for slotIndex in lookup[key] ?? [] {
      try parseValue(record, valueRange, slotIndex, dest, &present)
    }
  }

  private func parseValue(_ record: UnsafeRawBufferPointer, _ valueRange: Range<Int>?, _ slotIndex: Int,
                          _ dest: Destination, _ present: inout [Bool]) throws {
    let slot = slots[slotIndex]
    present[slotIndex] = true
    guard let valueRange else { return }  // an empty Feature: no values
    var feature = WireReader(record, from: valueRange.lowerBound, to: valueRange.upperBound)
    var count = 0
    var kindSeen: Int? = nil
    while !feature.isAtEnd {
      let (f, w) = try feature.key()
      guard (1...3).contains(f), w == .lengthDelimited else { try feature.skip(w); continue }
      let listRange = try feature.lengthDelimited()
      kindSeen = f
      count = 0  // oneof: the last kind present wins
      var list = WireReader(record, from: listRange.lowerBound, to: listRange.upperBound)
      switch (f, slot.kind) {
      case (2, .float):
        try readFloats(&list, into: dest.floats[slotIndex], slot, &count)
      case (3, .int64):
        try readInt64s(&list, into: dest.int64s[slotIndex], slot, &count)
      default:
        let found = f == 1 ? "bytes_list" : (f == 2 ? "float_list" : "int64_list")
        throw RecordError(message: "feature \(slot.name) is a \(found) but the schema says \(slot.kind == .float ? "float_list" : "int64_list")")
      }
    }
    if kindSeen != nil && count != slot.length {
      throw RecordError(message: "feature \(slot.name) has \(count) values but the schema says length \(slot.length)")
    }
  }

  private func readFloats(_ list: inout WireReader, into out: UnsafeMutablePointer<Float>?, _ slot: Slot, _ count: inout Int) throws {
    while !list.isAtEnd {
      let (f, w) = try list.key()
      guard f == 1 else { try list.skip(w); continue }
      if w == .lengthDelimited {
        let r = try list.lengthDelimited()
        guard r.count % 4 == 0 else { throw RecordError(message: "feature \(slot.name): packed float list of \(r.count) bytes is not a multiple of 4") }
        let n = r.count / 4
        guard count + n <= slot.length else { throw RecordError(message: "feature \(slot.name) has more than \(slot.length) values (schema length)") }
        if let out { (out + count).withMemoryRebound(to: UInt8.self, capacity: r.count) { $0.update(from: (list.base + r.lowerBound).assumingMemoryBound(to: UInt8.self), count: r.count) } }
        #if _endian(big)
        if let out { for i in count..<(count + n) { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) } }
        #endif
        count += n
      } else if w == .fixed32 {
        let bits = try list.fixed32()
        guard count < slot.length else { throw RecordError(message: "feature \(slot.name) has more than \(slot.length) values (schema length)") }
        out?[count] = Float(bitPattern: bits)
        count += 1
      } else {
        throw RecordError(message: "feature \(slot.name): float list value has wire type \(w.rawValue)")
      }
    }
  }

  private func readInt64s(_ list: inout WireReader, into out: UnsafeMutablePointer<Int64>?, _ slot: Slot, _ count: inout Int) throws {
    while !list.isAtEnd {
      let (f, w) = try list.key()
      guard f == 1 else { try list.skip(w); continue }
      if w == .lengthDelimited {
        let r = try list.lengthDelimited()
        var packed = WireReader(UnsafeRawBufferPointer(start: list.base, count: list.end), from: r.lowerBound, to: r.upperBound)
        while !packed.isAtEnd {
          let v = try packed.varint()
          guard count < slot.length else { throw RecordError(message: "feature \(slot.name) has more than \(slot.length) values (schema length)") }
          out?[count] = Int64(bitPattern: v)
          count += 1
        }
      } else if w == .varint {
        let v = try list.varint()
        guard count < slot.length else { throw RecordError(message: "feature \(slot.name) has more than \(slot.length) values (schema length)") }
        out?[count] = Int64(bitPattern: v)
        count += 1
      } else {
        throw RecordError(message: "feature \(slot.name): int64 list value has wire type \(w.rawValue)")
      }
    }
  }
}
