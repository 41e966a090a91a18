import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Recap
import TMLData
import TMLNN
import TwHIN
import XCTest
@testable import TMLServe

/// Models for the serving tests, built once per test process under a temp directory:
/// a tiny Heavy Ranker (configs/recap/small.yaml's network, trained 10 steps on
/// generated data, checkpoints at steps 5 and 10) and a tiny TwHIN model (3 tables,
/// 2 relations, random embeddings, saved as step 0 and step 1).
final class ServeFixtures: @unchecked Sendable {
  private static let built = Result { try ServeFixtures() }
  /// The fixtures (built on first use); a build failure fails each test that uses them.
  static func get() throws -> ServeFixtures { try built.get() }

  let dir: URL
  let rankerConfig: String
  let rankerSaveDir: URL
  let validationFile: String
  let twhinConfig: String
  let twhinSaveDir: URL

  static var repo: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  private init() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("tml-serve-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let repo = ServeFixtures.repo
    var text = try String(contentsOf: repo.appendingPathComponent("configs/recap/small.yaml"), encoding: .utf8)
    let edits = [
      ("data/recap_small", dir.appendingPathComponent("data").path),
      ("save_dir: runs/recap_small", "save_dir: \(dir.appendingPathComponent("ranker").path)"),
      ("num_train_steps: 1000", "num_train_steps: 10"),
      ("checkpoint_every_n: 250", "checkpoint_every_n: 5"),
      ("checkpoint_max_to_keep: 2", "checkpoint_max_to_keep: 4"),
      ("num_eval_steps: 20", "num_eval_steps: 1"),
      ("global_batch_size: 128", "global_batch_size: 32"),
      ("schema_path: small_segdense.json", "schema_path: \(repo.appendingPathComponent("configs/recap/small_segdense.json").path)"),
    ]
    for (a, b) in edits {
      guard text.contains(a) else { throw ServeError(500, "small.yaml has no \(a)") }
      text = text.replacingOccurrences(of: a, with: b)
    }
    rankerConfig = dir.appendingPathComponent("small.yaml").path
    try text.write(toFile: rankerConfig, atomically: true, encoding: .utf8)
    let run = try RecapRun(configPath: rankerConfig)
    _ = try run.generateData(examples: 300, files: 1)
    _ = try run.train(onEvent: { _ in })
    rankerSaveDir = run.saveDir
    validationFile = dir.appendingPathComponent("data/validation/part-0.tfrecord.gz").path

    twhinConfig = dir.appendingPathComponent("twhin.yaml").path
    try """
      training:
        save_dir: \(dir.appendingPathComponent("twhin").path)
        num_train_steps: 10
      model:
        translation_optimizer:
          adagrad: {lr: 0.05}
        embeddings:
          tables:
            - {name: user, num_embeddings: 50, embedding_dim: 8, data_type: fp32, optimizer: {rowwise_adagrad: {lr: 0.05}}}
            - {name: author, num_embeddings: 20, embedding_dim: 8, data_type: fp32, optimizer: {rowwise_adagrad: {lr: 0.05}}}
            - {name: tweet, num_embeddings: 300, embedding_dim: 8, data_type: fp32, optimizer: {rowwise_adagrad: {lr: 0.05}}}
        relations:
          - {name: follow, lhs: user, rhs: author, operator: translation}
          - {name: fav, lhs: user, rhs: tweet, operator: translation}
      train_data:
        data_root: \(dir.appendingPathComponent("edges").path)/*.parquet
        per_replica_batch_size: 16
        in_batch_negatives: 2
        global_negatives: 2
      validation_data:
        data_root: \(dir.appendingPathComponent("edges").path)/*.parquet
        per_replica_batch_size: 16
        in_batch_negatives: 2
        global_negatives: 2
      """.write(toFile: twhinConfig, atomically: true, encoding: .utf8)
    let twhinRun = try TwHINRun(configPath: twhinConfig)
    twhinSaveDir = twhinRun.saveDir
    for step in 0...1 {
      twhinRun.seed = UInt64(step)
      let model = try twhinRun.makeModel()
      try CheckpointManager(saveDir: twhinSaveDir).save(step: step, model: model.stateDict(), optimizer: StateDict(),
                                                        state: CheckpointState(step: step))
    }
  }

  /// The serialized records of the validation file.
  func validationRecords() throws -> [[UInt8]] {
    let reader = try TFRecordReader(path: validationFile)
    var out: [[UInt8]] = []
    while let r = try reader.next() { out.append(r) }
    return out
  }

  /// A record as the JSON features object of `/v1/rank`.
  static func featuresJSON(_ record: [UInt8]) throws -> String {
    let example = try Tensorflow_Example(serializedBytes: record)
    var w = JSONWriter()
    w.object { o in
      for (name, f) in example.features.feature.sorted(by: { $0.key < $1.key }) {
        o.key(name)
        o.array { a in
          switch f.kind {
          case .floatList(let l)?: for v in l.value { a.float(v) }
          case .int64List(let l)?: for v in l.value { a.int64(v) }
          case .bytesList(let l)?: for v in l.value { a.string(String(decoding: v, as: UTF8.self)) }
          case nil: break
          }
        }
      }
    }
    return w.text
  }
}

/// A `tml serve` server on an ephemeral loopback port, running in a task until `stop()`.
final class RunningServer: @unchecked Sendable {
  let core: ServeCore
  let port: Int
  private let task: Task<Void, Error>

  static func start(_ store: ModelStore, options: ServeOptions = ServeOptions()) async throws -> RunningServer {
    var options = options
    options.port = 0
    let core = ServeCore(options: options, store: store)
    var logger = Logger(label: "tml-serve-test")
    logger.logLevel = .critical  // cancelling the server task at the end logs an error
    let server = ServeServer(core: core, logger: logger)
    let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    let task = Task { try await server.application(onRunning: { continuation.yield($0) }).run() }
    var port = 0
    for await p in stream { port = p; break }
    return RunningServer(core: core, port: port, task: task)
  }

  private init(core: ServeCore, port: Int, task: Task<Void, Error>) {
    self.core = core
    self.port = port
    self.task = task
  }

  func stop() async {
    task.cancel()
    _ = await task.result
    core.shutdown()
  }

  /// Sends `body` to `path` (POST when a body is given, else GET): (status, body text).
  func call(_ path: String, body: String? = nil, method: String? = nil) async throws -> (status: Int, body: String) {
    try await call(path, bytes: body.map { Array($0.utf8) }, method: method)
  }

  func call(_ path: String, bytes: [UInt8]?, method: String? = nil, contentType: String = "application/json") async throws -> (status: Int, body: String) {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = .init(rawValue: method ?? (bytes == nil ? "GET" : "POST"))
    if let bytes {
      request.headers.add(name: "Content-Type", value: contentType)
      request.body = .bytes(ByteBuffer(bytes: bytes))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let buffer = try await response.body.collect(upTo: 1 << 28)
    return (Int(response.status.code), String(buffer: buffer))
  }
}

/// Runs `body` against a server on `store`, stopping the server afterwards.
func withServer(_ store: ModelStore, options: ServeOptions = ServeOptions(), _ body: (RunningServer) async throws -> Void) async throws {
  let server = try await RunningServer.start(store, options: options)
  do { try await body(server) } catch {
    await server.stop()
    throw error
  }
  await server.stop()
}

/// Parses a reply body as JSON (the server's own reader), failing the test when it is not.
func parseJSON(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
  do { return try JSONReader.parse(Array(text.utf8)) } catch {
    XCTFail("reply is not JSON (\(error)): \(text.prefix(300))", file: file, line: line)
    throw error
  }
}

extension JSONValue {
  var double: Double? { if case .number(let d, _) = self { return d } else { return nil } }
  var int: Int? { if case .number(_, let i?) = self { return Int(i) } else { return nil } }
  var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
}
