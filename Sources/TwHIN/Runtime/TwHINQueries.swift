import Foundation
import TMLMetrics
import TMLNN
import TMLTensor
import TMLTrain

extension TwHINRun {
  /// Filtered link-prediction metrics of `edges` (DESIGN §8): sampled AUC and in-batch
  /// ranks with validation_data's negatives, and ranks against every row of the rhs
  /// table (MRR, Hits@1/10/50, mean rank), filtered by `known`. At most `num_eval_steps`
  /// batches are evaluated (all when negative). With `log`, the metrics go to
  /// `metrics.jsonl` (kind `eval`) and `tensorboard/validation`.
  public func evaluate(_ model: TwHINModel, edges: EdgeList, known: KnownEdges?, step: Int, log: Bool = true,
                       onEvent: (TwHINEvent) -> Void = { _ in }) throws -> TwHINEvaluation {
    let d = config.validationData
    let steps = config.training.numEvalSteps
    let (cap, overflow) = max(steps, 0).multipliedReportingOverflow(by: d.perReplicaBatchSize)
    let used = steps < 0 || overflow ? edges : edges.prefix(cap)
    // With `known`, the both-side ranking's tail ranks are the all-candidates ranks: one pass.
    let evaluator = try TwHINEvaluator(loss: TwHINLoss(inBatchNegatives: d.inBatchNegatives, globalNegatives: d.globalNegatives, sides: d.sides),
                                       batchSize: d.perReplicaBatchSize, hitsAt: [1, 10, 50], rankAllCandidates: known == nil, seed: seed)
    var result = try evaluator.evaluate(model, edges: used, known: known) { onEvent(.evaluating($0)) }
    if let known {
      let lp = try LinkPredictionEvaluator()
      let ranks = try lp.ranks(model, edges: used, known: known) { onEvent(.evaluating($0)) }
      result.linkPrediction = try lp.summary(ranks)
      var all = try RankingAccumulator(hitsAt: evaluator.hitsAt)
      for rank in ranks.tail { try all.append(rank: rank) }
      result.allCandidates = try all.compute()
    }
    if log {
      var values = result.dictionary
      values["edges"] = Double(used.count)
      try MetricsLog(url: saveDir.appendingPathComponent("metrics.jsonl")).append(kind: "eval", step: step, values)
      let board = try TensorBoardWriter(directory: saveDir.appendingPathComponent("tensorboard/validation"))
      try board.add(values, step: step)
      try board.close()
    }
    onEvent(.evaluated(step: step, result))
    return result
  }

  /// Loads the model of a checkpoint: a `step_<N>` directory, or a save dir (its newest step).
  public func loadModel(checkpoint directory: URL) throws -> (model: TwHINModel, step: Int) {
    let (model, step, _) = try loadModel(checkpointAt: directory)
    return (model, step)
  }

  /// `loadModel`, also returning the `step_<N>` directory it read (where files that belong
  /// to this checkpoint, such as ANN indexes, live).
  public func loadModel(checkpointAt directory: URL) throws -> (model: TwHINModel, step: Int, directory: URL) {
    let ckpt = try TwHINRun.loadCheckpoint(directory)
    let model = try TwHINModel(schema: schema, dim: dim, embeddingInit: .uniform(low: 0, high: 0), translationInit: .zeros)
    try model.loadStateDict(ckpt.model, origin: ckpt.directory.appendingPathComponent("model.safetensors").path)
    model.eval()
    return (model, ckpt.state.step, ckpt.directory)
  }

  static func loadCheckpoint(_ directory: URL) throws -> Checkpoint {
    let dir = CheckpointManager(saveDir: directory).steps().last?.url ?? directory
    guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) else {
      throw TwHINError("\(directory.path) is not a checkpoint: it has neither checkpoints/step_<N>/ nor model.safetensors; pass a save dir or a step_<N> directory")
    }
    return try CheckpointManager.load(dir)
  }

  /// Evaluates a checkpoint on the validation edges (filtered by the training edges).
  public func evaluate(checkpoint: URL, onEvent: @escaping (TwHINEvent) -> Void = { _ in }) throws -> TwHINEvaluation {
    let (model, step) = try loadModel(checkpoint: checkpoint)
    let data = try loadData(onEvent: onEvent)
    let test = try loadTestData(onEvent: onEvent)
    let known = TwHINRun.knownEdges(train: data.train.edges, heldOut: [data.validation.edges] + (test.map { [$0] } ?? []))
    let result = try evaluate(model, edges: data.validation.edges, known: known, step: step, log: false, onEvent: onEvent)
    if let test { onEvent(.linkPrediction(step: step, split: "test_data", try LinkPredictionEvaluator().evaluate(model, edges: test, known: known))) }
    return result
  }

  /// The k best rhs of (raw lhs id, relation) by exact score, with raw ids through the
  /// vocabularies. With `excludeTraining`, rhs already linked to lhs in the training
  /// edges are skipped (new recommendations only).
  /// `search`, when given, finds the neighbours of (lhs row, relation) instead of the exact
  /// scan (e.g. an ANN index); ids are mapped through the vocabularies either way.
  public func neighbors(_ model: TwHINModel, relation: String, lhs rawID: Int64, k: Int,
                        excluding known: KnownEdges? = nil,
                        search: ((_ lhsRow: Int, _ relation: Int) throws -> [Neighbor])? = nil) throws -> [(row: Int, id: Int64, score: Float)] {
    let r = try schema.relationIndex(named: relation)
    let vocabs = try vocabularies()
    let lhsTable = schema.lhsTable[r], rhsTable = schema.rhsTable[r]
    let row: Int
    if let v = vocabs[lhsTable] {
      guard let found = v.row(of: rawID) else {
        throw TwHINError("neighbors: id \(rawID) is not in the vocab of table \"\(schema.tables[lhsTable].name)\" (the lhs of \"\(relation)\")")
      }
      row = found
    } else {
      row = Int(rawID)
    }
    let found = try search?(row, r) ?? model.neighbors(lhs: row, relation: r, k: k, excluding: known)
    return found.map { n in
      (n.id, vocabs[rhsTable]?.id(ofRow: n.id) ?? Int64(n.id), n.score)
    }
  }
}

/// Export of a checkpoint's tables without a config: the table names come from the
/// state-dict keys `large_embeddings.ebc.embedding_bags.<table>.weight`.
public enum TwHINCheckpointExport {
  static let prefix = "large_embeddings.ebc.embedding_bags.", suffix = ".weight"

  /// Writes `<table>.safetensors` and `<table>.tsv` for every table of the checkpoint in
  /// `checkpoint` (a save dir or a `step_<N>` directory), and the translations when
  /// `relations` names them. `ids[table]` gives raw ids for the TSV rows.
  @discardableResult
  public static func export(checkpoint: URL, to out: URL, relations: [String]? = nil, ids: [String: [Int64]] = [:],
                            progress: ((Int, Int) -> Void)? = nil) throws -> (files: [URL], step: Int, tables: [(String, [Int])]) {
    let ckpt = try TwHINRun.loadCheckpoint(checkpoint)
    var tables: [EmbeddingExport.Table] = []
    for (name, e) in ckpt.model.entries where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
      let table = String(name.dropFirst(prefix.count).dropLast(suffix.count))
      tables.append(.init(name: table, weight: e.tensor, ids: ids[table]))
    }
    guard !tables.isEmpty else {
      throw TwHINError("\(ckpt.directory.path): model.safetensors has no \(prefix)<table>\(suffix) tensors; is it a TwHIN checkpoint?")
    }
    let totalRows = tables.reduce(0) { $0 + $1.weight.shape[0] }
    var files = try EmbeddingExport.writeSafetensors(tables, to: out)
    files += try EmbeddingExport.writeTSV(tables, to: out) { progress?($0, totalRows) }
    if let relations, let t = ckpt.model["all_trans_embs"]?.tensor {
      files += try EmbeddingExport.writeTranslations(t, relations: relations, to: out)
    }
    return (files, ckpt.state.step, tables.map { ($0.name, $0.weight.shape) })
  }
}
