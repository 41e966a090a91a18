import Foundation
import TMLNN
import TwHIN

/// One loaded TwHIN model, read-only once built: the `TwHINRun` of its config (schema,
/// vocabularies), the embeddings, the exact scan, any approximate indexes by relation,
/// and the version it reports (`<checkpoint dir>@step_<N>#<load number>`).
///
/// Ids in requests are raw ids when the table has a vocabulary (as `tml twhin neighbors
/// --lhs`), rows otherwise.
///
///     let twhin = try LoadedTwHIN.load(configPath: "configs/twhin/planted.yaml", checkpoint: "runs/twhin_planted", loadNumber: 1)
public final class LoadedTwHIN: @unchecked Sendable {
  public let run: TwHINRun
  public let model: TwHINModel
  public let vocabularies: [Vocabulary?]
  public let checkpoint: String
  public let step: Int
  public let version: String
  public let exact: ExactNeighborScan
  /// Approximate indexes by relation index, used when a request says `"exact": false`.
  public var approximate: [Int: any NeighborSource] = [:]

  public init(run: TwHINRun, model: TwHINModel, checkpoint: String, step: Int, loadNumber: Int) throws {
    self.run = run
    self.model = model
    self.checkpoint = checkpoint
    self.step = step
    vocabularies = try run.vocabularies()
    exact = ExactNeighborScan(model: model)
    version = "\(URL(fileURLWithPath: checkpoint).lastPathComponent)@step_\(step)#\(loadNumber)"
  }

  /// Loads `checkpoint` (a save dir: its newest step, or a `step_<N>` directory) of the
  /// TwHIN config at `configPath`.
  /// HNSW indexes saved in the checkpoint's ann/ folder (`tml twhin build-ann`) are loaded
  /// and answer `"exact": false` requests with search breadth `annSearchBreadth`.
  public static func load(configPath: String, checkpoint: String, loadNumber: Int, annSearchBreadth: Int = 100) throws -> LoadedTwHIN {
    let run = try TwHINRun(configPath: configPath)
    let (model, step, stepDirectory) = try run.loadModel(checkpointAt: URL(fileURLWithPath: checkpoint))
    let dir = CheckpointManager(saveDir: URL(fileURLWithPath: checkpoint)).steps().last?.url.path ?? checkpoint
    let loaded = try LoadedTwHIN(run: run, model: model, checkpoint: dir, step: step, loadNumber: loadNumber)
    try loaded.loadIndexes(checkpointDirectory: stepDirectory, ef: annSearchBreadth)
    return loaded
  }

  /// The row of raw id `id` in table `table` (through its vocabulary when it has one); a
  /// 400 naming the table when there is no such row.
  public func row(of id: Int64, table: Int, path: String) throws -> Int {
    let spec = run.schema.tables[table]
    if let v = vocabularies[table] {
      guard let r = v.row(of: id) else { throw ServeError.badRequest("\(path): id \(id) is not in the vocabulary of table \"\(spec.name)\"") }
      return r
    }
    guard id >= 0, id < Int64(spec.numEmbeddings) else {
      throw ServeError.badRequest("\(path): row \(id) is outside table \"\(spec.name)\" (\(spec.numEmbeddings) rows; it has no vocabulary, so ids are rows)")
    }
    return Int(id)
  }

  /// The raw id of row `row` of table `table`.
  public func id(ofRow row: Int, table: Int) -> Int64 { vocabularies[table]?.id(ofRow: row) ?? Int64(row) }

  /// The neighbour source for a request: the approximate index of `relation` when asked
  /// (`exact == false`) and one is plugged in, else the exact scan.
  public func source(relation: Int, exact: Bool) -> any NeighborSource {
    if !exact, let a = approximate[relation] { return a }
    return self.exact
  }
}
