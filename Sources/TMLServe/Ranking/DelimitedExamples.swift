/// The binary body of `POST /v1/rank` (`Content-Type: application/x-tfexample-delimited`):
/// serialized tf.Examples one after another, each preceded by its length as a protobuf
/// base-128 varint (the "length-delimited" stream of protobuf's `writeDelimitedTo`):
///
///     body = (varint(len(record_i)) ‖ record_i)*
///
/// It carries the same records as base64 `example`s in JSON without the base64 and JSON
/// passes (a production candidate is ~28 KB of features). Candidate ids are their positions;
/// `top` comes from the query string (`?top=10`).
///
///     let body = DelimitedExamples.join(records)   // and on the server: try DelimitedExamples.split(body, maxCandidates: 1000)
public enum DelimitedExamples {
  public static let contentType = "application/x-tfexample-delimited"

  /// The records of `body`; a 400 names the record and byte offset of a truncated length
  /// or record, a 413 comes when there are more than `maxCandidates` records.
  public static func split(_ body: [UInt8], maxCandidates: Int) throws -> [[UInt8]] {
    var records: [[UInt8]] = []
    var i = 0
    while i < body.count {
      let start = i
      var length: UInt64 = 0
      var shift: UInt64 = 0
      while true {
        guard i < body.count else {
          throw ServeError.badRequest("\(contentType) body: record \(records.count) at byte \(start): the length varint runs past the end of the body")
        }
        let b = body[i]
        i += 1
        guard shift < 63 else { throw ServeError.badRequest("\(contentType) body: record \(records.count) at byte \(start): the length varint is longer than 9 bytes") }
        length |= UInt64(b & 0x7f) << shift
        shift += 7
        if b & 0x80 == 0 { break }
      }
      guard length <= UInt64(body.count - i) else {
        throw ServeError.badRequest("\(contentType) body: record \(records.count) at byte \(start): length \(length) runs past the end of the body (\(body.count - i) bytes left)")
      }
      guard records.count < maxCandidates else {
        throw ServeError.tooLarge("\(contentType) body: more than the server's limit of \(maxCandidates) candidates (--max-candidates); split the request")
      }
      records.append(Array(body[i..<(i + Int(length))]))
      i += Int(length)
    }
    return records
  }

  /// Frames `records` as a delimited body (clients, tests, benchmarks).
  public static func join(_ records: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(records.reduce(0) { $0 + $1.count + 5 })
    for r in records {
      var n = UInt64(r.count)
      repeat {
        out.append(UInt8(n & 0x7f) | (n >= 0x80 ? 0x80 : 0))
        n >>= 7
      } while n > 0
      out += r
    }
    return out
  }
}
