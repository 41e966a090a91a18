import Foundation
import TMLTrain

/// `train_data:` / `validation_data:` — where the edges are and how batches and negatives
/// are made (the original's `TwhinDataConfig`, plus SwiftTML's optional extensions):
///
///     data_root: data/edges/*.parquet     file, directory or glob (local paths only)
///     per_replica_batch_size: 500         positive edges per batch (B)
///     in_batch_negatives: 10              S: negatives per side drawn from the batch's edges
///     global_negatives: 0                 G: negatives per side drawn uniformly from the tables
///     limit: 9990                         read this many batches (B edges each) …
///     offset: 0                           … after skipping this many batches
///     # SwiftTML extensions
///     format: parquet                     parquet | csv | tsv (default: by file extension)
///     columns: {lhs: lhs, rel: rel, rhs: rhs}
///     unknown_ids: error                  error | skip (ids missing from a vocab or outside a table)
///     holdout_fraction: 0.1               validation_data only: evaluate on this share of its
///                                         edges and remove them from training
///     eval_every_n_epochs: 10             validation_data only: both-side filtered MRR every n epochs
///     early_stopping_patience: 3          validation_data only: stop after this many such evaluations
///                                         without a better MRR and keep the best model
///     negative_sides: [lhs, rhs]          which sides get negatives: [lhs, rhs] (default, the
///                                         original: corrupt both ends of each edge), [rhs] (only
///                                         other rhs nodes per lhs: "which item instead", the
///                                         retrieval question) or [lhs]
///
/// `limit` and `offset` count batches of `per_replica_batch_size` edges, in file order
/// (files sorted by name): edges [offset·B, (offset + limit)·B). The original's local
/// config trains on batches 0..<9990 and validates on 9990..<10000 of the same files.
/// Unlike the original (where `limit` is required, `offset` must be positive and both are
/// ignored by its reader), `limit` may be omitted (read everything) and `offset` may be 0.
public struct TwHINDataConfig: Codable, Equatable, Sendable {
  public var dataRoot: String
  public var perReplicaBatchSize: Int
  public var globalNegatives: Int
  public var inBatchNegatives: Int
  public var limit: Int?
  public var offset: Int?
  public var format: TwHINEdgeFormat?
  public var columns: TwHINEdgeColumns
  public var unknownIds: TwHINUnknownIDs
  public var holdoutFraction: Double?
  /// Evaluate link prediction on the validation edges every this many epochs (SwiftTML).
  public var evalEveryNEpochs: Int?
  /// Stop after this many periodic evaluations without a better validation MRR (SwiftTML).
  public var earlyStoppingPatience: Int?
  /// `negative_sides` as written (SwiftTML); nil = both, the original's behaviour. Read `sides`.
  public var negativeSides: [TwHINSide]?
  /// The sides negatives are drawn for: `negative_sides`, or [lhs, rhs] when absent.
  public var sides: [TwHINSide] { negativeSides ?? TwHINSide.allCases }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case dataRoot = "data_root", perReplicaBatchSize = "per_replica_batch_size", globalNegatives = "global_negatives"
    case inBatchNegatives = "in_batch_negatives", limit, offset, format, columns, unknownIds = "unknown_ids"
    case holdoutFraction = "holdout_fraction", evalEveryNEpochs = "eval_every_n_epochs"
    case earlyStoppingPatience = "early_stopping_patience", negativeSides = "negative_sides"
  }

  public init(dataRoot: String, perReplicaBatchSize: Int, globalNegatives: Int = 0, inBatchNegatives: Int = 10, limit: Int? = nil,
              offset: Int? = nil, format: TwHINEdgeFormat? = nil, columns: TwHINEdgeColumns = TwHINEdgeColumns(),
              unknownIds: TwHINUnknownIDs = .error, holdoutFraction: Double? = nil) {
    self.dataRoot = dataRoot
    self.perReplicaBatchSize = perReplicaBatchSize
    self.globalNegatives = globalNegatives
    self.inBatchNegatives = inBatchNegatives
    self.limit = limit
    self.offset = offset
    self.format = format
    self.columns = columns
    self.unknownIds = unknownIds
    self.holdoutFraction = holdoutFraction
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    dataRoot = try c.decode(.dataRoot)
    perReplicaBatchSize = try c.decode(.perReplicaBatchSize, .positive)
    globalNegatives = try c.decode(.globalNegatives, .nonNegative)
    inBatchNegatives = try c.decode(.inBatchNegatives, .nonNegative)
    limit = try c.decodeIfPresent(.limit, .positive)
    offset = try c.decodeIfPresent(.offset, .nonNegative)
    format = try c.decodeIfPresent(.format)
    columns = try c.decode(.columns, default: TwHINEdgeColumns())
    unknownIds = try c.decode(.unknownIds, default: .error)
    holdoutFraction = try c.decodeIfPresent(.holdoutFraction)
    evalEveryNEpochs = try c.decodeIfPresent(.evalEveryNEpochs, .positive)
    earlyStoppingPatience = try c.decodeIfPresent(.earlyStoppingPatience, .positive)
    negativeSides = try c.decodeIfPresent(.negativeSides)
    if let n = negativeSides, n.isEmpty || Set(n).count != n.count {
      throw c.error(.negativeSides, .invalidValue, "'negative_sides' must name lhs, rhs or both, each once; got [\(n.map(\.rawValue).joined(separator: ", "))]",
                    "Use [lhs, rhs] (the default), [rhs] or [lhs].")
    }
    if earlyStoppingPatience != nil && evalEveryNEpochs == nil {
      throw c.error(.earlyStoppingPatience, .invalidValue, "early_stopping_patience needs periodic evaluations",
                    "Add eval_every_n_epochs (e.g. 10) next to it.")
    }
    if let f = holdoutFraction, !(f > 0 && f < 1) {
      throw c.error(.holdoutFraction, .invalidValue, "'holdout_fraction' must be between 0 and 1 (exclusive), got \(f)",
                    "Use e.g. 0.1 to evaluate on a tenth of the edges, or remove the key.")
    }
    guard !dataRoot.isEmpty else {
      throw c.error(.dataRoot, .invalidValue, "'data_root' is empty", "Point it at edge files: a file, a directory or a glob such as data/edges/*.parquet.")
    }
  }

  /// The edge rows this section reads: [offset·B, (offset + limit)·B), or from offset·B on.
  public var rowRange: (start: Int, count: Int?) {
    let b = perReplicaBatchSize
    return ((offset ?? 0) * b, limit.map { $0 * b })
  }
}

/// One end of an edge: `lhs` (the relation's source table) or `rhs` (its target table).
public enum TwHINSide: String, ConfigEnum {
  case lhs, rhs
}

/// Edge file format (SwiftTML extension `format:`).
public enum TwHINEdgeFormat: String, ConfigEnum {
  case parquet, csv, tsv
}

/// What to do with an edge whose node id is not in the table's vocab (or, without a
/// vocab, outside the table): stop with an error naming the file and row, or skip the
/// edge and count it (reported after loading).
public enum TwHINUnknownIDs: String, ConfigEnum {
  case error, skip
}

/// Names of the edge columns (SwiftTML extension `columns:`; the original's fixed
/// `lhs`, `rel`, `rhs`). In CSV/TSV the relation column may hold relation names.
public struct TwHINEdgeColumns: Codable, Equatable, Sendable {
  public var lhs: String
  public var rel: String
  public var rhs: String

  enum CodingKeys: String, CodingKey, CaseIterable { case lhs, rel, rhs }

  public init(lhs: String = "lhs", rel: String = "rel", rhs: String = "rhs") {
    self.lhs = lhs
    self.rel = rel
    self.rhs = rhs
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    lhs = try c.decode(.lhs, default: "lhs")
    rel = try c.decode(.rel, default: "rel")
    rhs = try c.decode(.rhs, default: "rhs")
  }
}
