import Foundation
import TMLNN
import TMLTensor
import XCTest

final class SafetensorsTests: XCTestCase {

  // MARK: reading Python's files

  func testEveryDtypeWrittenByPythonReadsAsItsFloat32Value() throws {
    let f = try Fixtures.load("dtypes")
    let expectedDTypes: [String: StateDType] = [
      "f32": .f32, "f16": .f16, "bf16": .bf16, "i64": .i64, "i32": .i32, "u8": .u8, "bool": .bool,
    ]
    for (name, dtype) in expectedDTypes.sorted(by: { $0.key < $1.key }) {
      XCTAssertEqual(f.entries[name]?.dtype, dtype, name)
      assertIdentical(try f.tensor(name), try f.tensor(name + ".as_f32"), "dtypes \(name)")
    }
  }

  func testIntegerDtypesReadExactlyAsIndexTensors() throws {
    let f = try Fixtures.load("dtypes")
    let i64 = try f.indexTensor("i64")
    XCTAssertEqual(i64.values, [-5, 0, 42, 3_000_000_000])
    XCTAssertEqual(i64.shape, [4])
    XCTAssertEqual(i64.dtype, .int64)
    let i32 = try f.indexTensor("i32")
    XCTAssertEqual(i32.values, [-7, 0, 123_456])
    XCTAssertEqual(i32.dtype, .int32)
    XCTAssertEqual(try f.indexTensor("u8").values, [0, 1, 127, 128, 255])
    XCTAssertEqual(try f.indexTensor("bool").values, [1, 0, 0, 1])
  }

  func testMetadataWrittenByPythonIsRead() throws {
    XCTAssertEqual(try Fixtures.load("dtypes").metadata, ["producer": "pytorch-fixture"])
  }

  func testIndexTensorOfAFloatEntryThrowsNamingTheFileAndTensor() throws {
    let url = Fixtures.url("dtypes")
    let f = try SafetensorsFile(contentsOf: url)
    let message = errorMessage("indexTensor of F32") { try f.indexTensor("f32") }
    assertMentions(message, [url.path, "\"f32\"", "F32", "not an integer type"])
  }

  func testMissingTensorNameThrowsListingTheAvailableNames() throws {
    let url = Fixtures.url("linear")
    let f = try SafetensorsFile(contentsOf: url)
    let message = errorMessage("missing tensor") { try f.tensor("weights") }
    assertMentions(message, [url.path, "\"weights\"", "weight", "bias"])
  }

  // MARK: writer → reader

  func testWriterRoundTripsEveryWritableDtypeWithMetadata() throws {
    let f32 = try Tensor(shape: [2, 3], scalars: [0, -1.25, 3.5e-8, 1e30, -7, 0.1])
    // Values exactly representable in the half types, so the round trip is exact.
    let f16 = Tensor([1.5, -0.25, 65504, 6.1035156e-05, 5.9604645e-08, -0.0])
    let bf16 = try Tensor(shape: [3, 1], scalars: [1, -2.5, 3.3895314e38])
    let i64 = IndexTensor([-1, 0, 3_000_000_000, Int(Int64.max), Int(Int64.min)])
    let i32 = try IndexTensor(shape: [1, 3], values: [-7, 0, Int(Int32.max)], dtype: .int32)
    var w = SafetensorsWriter(metadata: ["format": "pt", "step": "12", "note": "quote \" and\nnewline"])
    w.add("f32", f32)
    w.add("f16", f16, dtype: .f16)
    w.add("bf16", bf16, dtype: .bf16)
    w.add("i64", i64)
    w.add("i32", i32, dtype: .i32)
    w.add("scalar", Tensor(scalar: 3.25))

    let file = try SafetensorsFile(data: w.encoded(), source: "roundtrip")
    XCTAssertEqual(file.names, ["f32", "f16", "bf16", "i64", "i32", "scalar"])
    XCTAssertEqual(file.metadata, ["format": "pt", "step": "12", "note": "quote \" and\nnewline"])
    XCTAssertEqual(file.entries["f32"]?.dtype, .f32)
    XCTAssertEqual(file.entries["f16"]?.dtype, .f16)
    XCTAssertEqual(file.entries["bf16"]?.dtype, .bf16)
    XCTAssertEqual(file.entries["i64"]?.dtype, .i64)
    XCTAssertEqual(file.entries["i32"]?.dtype, .i32)
    assertIdentical(try file.tensor("f32"), f32, "f32")
    assertIdentical(try file.tensor("f16"), f16, "f16")
    assertIdentical(try file.tensor("bf16"), bf16, "bf16")
    XCTAssertEqual(try file.indexTensor("i64"), i64)
    XCTAssertEqual(try file.indexTensor("i32"), i32)
    let scalar = try file.tensor("scalar")
    XCTAssertEqual(scalar.shape, [])
    XCTAssertEqual(scalar.item, 3.25)
  }

  func testWrittenHeaderIsEightByteAlignedJSON() throws {
    var w = SafetensorsWriter(metadata: ["format": "pt"])
    w.add("x", Tensor([1, 2, 3]))
    let data = w.encoded()
    let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    XCTAssertEqual(n % 8, 0)
    XCTAssertEqual(data.count, 8 + n + 12)
    let header = try JSONSerialization.jsonObject(with: data[8..<(8 + n)]) as? [String: Any]
    let x = try XCTUnwrap(header?["x"] as? [String: Any])
    XCTAssertEqual(x["dtype"] as? String, "F32")
    XCTAssertEqual(x["shape"] as? [Int], [3])
    XCTAssertEqual(x["data_offsets"] as? [Int], [0, 12])
  }

  #if !(os(macOS) && arch(x86_64))
  func testFloat16WritingRoundsToNearestEvenLikeFloat16() throws {
    var values: [Float] = [
      0, -0, 1, -1, 65504, 65519.996, 65520, -65520, 1e9, 6.1035156e-05, 6.1e-05,
      5.9604645e-08, 2.9802322e-08, 2.9802326e-08, 1e-10, 1.0009766, 1.0004883, 1.0014648, 0.1, 1.0 / 3.0,
    ]
    var rng = RandomGenerator(seed: 42)
    for _ in 0..<2000 {
      let exponent = Float(rng.int(below: 48)) - 30
      values.append(rng.normal() * Float(pow(2.0, Double(exponent))))
    }
    var w = SafetensorsWriter()
    w.add("h", Tensor(values), dtype: .f16)
    let back = try SafetensorsFile(data: w.encoded()).tensor("h").scalars
    for (x, y) in zip(values, back) {
      let expected = Float(Float16(x))
      XCTAssertEqual(y.bitPattern, expected.bitPattern, "F16 of \(x): got \(y), Float16 gives \(expected)")
    }
  }

  func testEveryFloat16BitPatternDecodesLikeFloat16() throws {
    var header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[65536],\"data_offsets\":[0,131072]}}"
    while (header.utf8.count) % 8 != 0 { header += " " }
    var data = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: Array(header.utf8))
    for bits in 0...UInt16.max { withUnsafeBytes(of: bits.littleEndian) { data.append(contentsOf: $0) } }
    let decoded = try SafetensorsFile(data: data).tensor("h").scalars
    for bits in 0...UInt16.max {
      let expected = Float(Float16(bitPattern: bits)), got = decoded[Int(bits)]
      if expected.isNaN {
        XCTAssertTrue(got.isNaN, "F16 0x\(String(bits, radix: 16)) should be NaN, got \(got)")
      } else {
        XCTAssertEqual(got.bitPattern, expected.bitPattern, "F16 0x\(String(bits, radix: 16)): got \(got), expected \(expected)")
      }
    }
  }
  #endif

  func testBFloat16WritingRoundsToNearestEven() throws {
    // 1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷ (ties to the even 1); 1 + 3·2⁻⁸ is halfway
    // between 1 + 2⁻⁷ and 1 + 2⁻⁶ (ties to the even 1 + 2⁻⁶); just above a tie rounds up.
    let inputs: [Float] = [1, 1.00390625, 1.01171875, Float(bitPattern: 0x3F80_8001), -2.5, 0]
    let expected: [Float] = [1, 1, 1.015625, 1.0078125, -2.5, 0]
    var w = SafetensorsWriter()
    w.add("b", Tensor(inputs), dtype: .bf16)
    XCTAssertEqual(try SafetensorsFile(data: w.encoded()).tensor("b").scalars, expected)
  }

  // MARK: corrupt files

  private var scratch: URL!

  override func setUpWithError() throws { scratch = try makeTemporaryDirectory("safetensors") }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

  private func write(_ bytes: Data, _ name: String) throws -> URL {
    let url = scratch.appendingPathComponent(name)
    try bytes.write(to: url)
    return url
  }

  /// A file whose header is `json` (space-padded to 8 bytes) followed by `dataBytes` zero bytes.
  private func rawFile(header json: String, dataBytes: Int) -> Data {
    var header = json
    while header.utf8.count % 8 != 0 { header += " " }
    var d = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
    d.append(contentsOf: Array(header.utf8))
    d.append(Data(count: dataBytes))
    return d
  }

  private func loadError(_ bytes: Data, _ name: String) throws -> (URL, String) {
    let url = try write(bytes, name)
    return (url, errorMessage(name) { try SafetensorsFile(contentsOf: url) })
  }

  func testFileShorterThanTheHeaderLengthThrowsNamingTheFile() throws {
    let (url, message) = try loadError(Data([1, 2, 3, 4]), "tiny.safetensors")
    assertMentions(message, [url.path, "4 bytes", "too short"])
  }

  func testTruncatedDataSectionThrowsNamingTheFile() throws {
    var w = SafetensorsWriter()
    w.add("w", try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
    let full = w.encoded()
    let (url, message) = try loadError(full.prefix(full.count - 4), "truncated.safetensors")
    assertMentions(message, [url.path, "\"w\"", "truncated"])
  }

  func testHeaderLengthLargerThanTheFileThrowsNamingTheFile() throws {
    var d = Data()
    withUnsafeBytes(of: UInt64(1000).littleEndian) { d.append(contentsOf: $0) }
    d.append(contentsOf: Array("{}      ".utf8))
    let (url, message) = try loadError(d, "longheader.safetensors")
    assertMentions(message, [url.path, "header length 1000", "16-byte file"])
  }

  func testHeaderThatIsNotJSONThrowsNamingTheFile() throws {
    let (url, message) = try loadError(rawFile(header: "this is not json", dataBytes: 0), "notjson.safetensors")
    assertMentions(message, [url.path, "not a JSON object"])
  }

  func testDataOffsetsOutOfRangeThrowNamingTheFileAndTensor() throws {
    let header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]}}"
    let (url, message) = try loadError(rawFile(header: header, dataBytes: 8), "offsets.safetensors")
    assertMentions(message, [url.path, "\"w\"", "[0, 400]", "8-byte data section"])
  }

  func testDataOffsetsThatDisagreeWithTheShapeThrow() throws {
    let header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}"
    let (url, message) = try loadError(rawFile(header: header, dataBytes: 8), "span.safetensors")
    assertMentions(message, [url.path, "\"w\"", "needs 12 bytes", "span 8"])
  }

  func testUnknownDtypeThrowsNamingTheFileTensorAndDtype() throws {
    let header = "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}"
    let (url, message) = try loadError(rawFile(header: header, dataBytes: 8), "dtype.safetensors")
    assertMentions(message, [url.path, "\"w\"", "F64", "supported"])
  }

  func testShapeWhoseByteCountOverflowsThrowsInsteadOfTrapping() throws {
    let header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}"
    let (url, message) = try loadError(rawFile(header: header, dataBytes: 0), "overflow.safetensors")
    assertMentions(message, [url.path, "\"w\""])
  }

  func testMissingFileThrowsNamingThePath() throws {
    let url = scratch.appendingPathComponent("absent.safetensors")
    let message = errorMessage("missing file") { try SafetensorsFile(contentsOf: url) }
    assertMentions(message, [url.path, "cannot read"])
  }

  func testADirectoryInPlaceOfTheFileIsOneLineNamingItWithoutFoundationCodes() throws {
    let url = scratch.appendingPathComponent("model.safetensors")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    let message = errorMessage("a directory") { try SafetensorsFile(contentsOf: url) }
    XCTAssertEqual(message, "safetensors: cannot read \(url.path): is a directory")
  }

  // MARK: Python reads what Swift writes

  static let swiftWrittenURL = Fixtures.directory.appendingPathComponent("swift_written.safetensors")

  /// The content tools/check_swift_safetensors.py expects.
  static func swiftWrittenFile() throws -> Data {
    var w = SafetensorsWriter(metadata: ["format": "pt", "writer": "SwiftTML"])
    w.add("a", try Tensor(shape: [2, 3], scalars: [0, 0.5, 1, 1.5, 2, 2.5]))
    w.add("b", IndexTensor([1, -2, 3_000_000_000]))
    w.add("c", Tensor(scalar: 3.25))
    w.add("d", Tensor([1.5, -0.25]), dtype: .f16)
    return w.encoded()
  }

  /// Regenerate with `SWIFTTML_REGENERATE_FIXTURES=1 swift test --filter SafetensorsTests`.
  func testWriterOutputIsByteForByteTheCommittedSwiftWrittenFile() throws {
    let encoded = try Self.swiftWrittenFile()
    if ProcessInfo.processInfo.environment["SWIFTTML_REGENERATE_FIXTURES"] == "1" {
      try encoded.write(to: Self.swiftWrittenURL)
      print("regenerated \(Self.swiftWrittenURL.path) (\(encoded.count) bytes)")
    }
    let committed = try XCTUnwrap(
      try? Data(contentsOf: Self.swiftWrittenURL),
      "\(Self.swiftWrittenURL.path) is missing; run SWIFTTML_REGENERATE_FIXTURES=1 swift test --filter SafetensorsTests")
    XCTAssertEqual(encoded, committed, "the writer's bytes changed; if intended, regenerate with SWIFTTML_REGENERATE_FIXTURES=1")
  }

  func testCommittedSwiftWrittenFileReadsBackInSwift() throws {
    let f = try SafetensorsFile(contentsOf: Self.swiftWrittenURL)
    XCTAssertEqual(f.metadata, ["format": "pt", "writer": "SwiftTML"])
    XCTAssertEqual(f.names, ["a", "b", "c", "d"])
    assertIdentical(try f.tensor("a"), try Tensor(shape: [2, 3], scalars: [0, 0.5, 1, 1.5, 2, 2.5]), "a")
    XCTAssertEqual(try f.indexTensor("b").values, [1, -2, 3_000_000_000])
    XCTAssertEqual(f.entries["b"]?.dtype, .i64)
    XCTAssertEqual(try f.tensor("c").shape, [])
    XCTAssertEqual(try f.tensor("c").item, 3.25)
    XCTAssertEqual(f.entries["d"]?.dtype, .f16)
    XCTAssertEqual(try f.tensor("d").scalars, [1.5, -0.25])
  }

  private func findOnPath(_ program: String) -> URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
      let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(program)
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
  }

  func testPythonSafetensorsReadsTheSwiftWrittenFile() throws {
    guard let python = findOnPath("python3") else {
      print("skipping the Python cross-check: python3 is not on PATH")
      throw XCTSkip("python3 is not on PATH")
    }
    let script = Fixtures.repositoryRoot.appendingPathComponent("tools/check_swift_safetensors.py")
    let process = Process()
    process.executableURL = python
    process.arguments = [script.path, Self.swiftWrittenURL.path]
    process.currentDirectoryURL = Fixtures.repositoryRoot
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    print("check_swift_safetensors.py: \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
    XCTAssertEqual(process.terminationStatus, 0, output)
    XCTAssertTrue(output.hasPrefix("ok") || output.hasPrefix("skip"), output)
  }
}
