import Foundation
import TMLTrain

/// `model:` — the graph's node tables and edge types and the translations' optimizer
/// (the original's `TwhinModelConfig`):
///
///     model:
///       embeddings:
///         tables: [{name: user, num_embeddings: 424_241, embedding_dim: 4, data_type: fp32,
///                   optimizer: {sgd: {lr: 0.01}}}, …]
///       relations: [{name: fav, lhs: user, rhs: tweet, operator: translation}, …]
///       translation_optimizer: {sgd: {lr: 0.05}}
///
/// Checks (as the original's validators): every table has the same `embedding_dim` and
/// `data_type`; every relation's `lhs` and `rhs` name a table. SwiftTML also rejects
/// repeated table or relation names and non-positive sizes.
public struct TwHINModelConfig: Codable, Equatable, Sendable {
  public var embeddings: TwHINEmbeddingsConfig
  public var relations: [TwHINRelationConfig]
  public var translationOptimizer: OptimizerConfig

  enum CodingKeys: String, CodingKey, CaseIterable {
    case embeddings, relations, translationOptimizer = "translation_optimizer"
  }

  public init(embeddings: TwHINEmbeddingsConfig, relations: [TwHINRelationConfig], translationOptimizer: OptimizerConfig) {
    self.embeddings = embeddings
    self.relations = relations
    self.translationOptimizer = translationOptimizer
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    embeddings = try c.decode(.embeddings)
    relations = try c.decode(.relations)
    translationOptimizer = try c.decode(.translationOptimizer)
    guard !relations.isEmpty else {
      throw c.error(.relations, .invalidValue, "no relations are listed", "List at least one relation: {name, lhs, rhs, operator: translation}.")
    }
    let tables = embeddings.tables.map(\.name)
    var seen = Set<String>()
    for (i, r) in relations.enumerated() {
      let path = c.codingPath.map(ConfigPathComponent.init) + [.field("relations"), .index(i)]
      for (side, name) in [("lhs", r.lhs), ("rhs", r.rhs)] where !tables.contains(name) {
        throw ConfigError(.invalidValue, path: path + [.field(side)],
                          problem: "invalid \(side) node type '\(name)': no table has that name",
                          fix: "Use one of the tables under model.embeddings.tables: \(tables.joined(separator: ", ")).")
      }
      guard seen.insert(r.name).inserted else {
        throw ConfigError(.invalidValue, path: path + [.field("name")],
                          problem: "relation '\(r.name)' is listed twice", fix: "Give each relation a unique name.")
      }
    }
  }
}

/// `model.embeddings:` — the node tables (the original's `LargeEmbeddingsConfig` with
/// TwHIN's validator that all tables share `embedding_dim` and `data_type`).
public struct TwHINEmbeddingsConfig: Codable, Equatable, Sendable {
  public var tables: [TwHINTableConfig]
  /// Tables whose mean row norm is logged during training (`embedding_norm/<table>`).
  public var tablesToLog: [String]?

  enum CodingKeys: String, CodingKey, CaseIterable { case tables, tablesToLog = "tables_to_log" }

  public init(tables: [TwHINTableConfig], tablesToLog: [String]? = nil) {
    self.tables = tables
    self.tablesToLog = tablesToLog
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    tables = try c.decode(.tables)
    tablesToLog = try c.decodeIfPresent(.tablesToLog)
    guard let first = tables.first else {
      throw c.error(.tables, .invalidValue, "no tables are listed", "List one table per node type: {name, num_embeddings, embedding_dim, data_type, optimizer}.")
    }
    var seen = Set<String>()
    for (i, t) in tables.enumerated() {
      let path = c.codingPath.map(ConfigPathComponent.init) + [.field("tables"), .index(i)]
      guard t.embeddingDim == first.embeddingDim else {
        throw ConfigError(.invalidValue, path: path + [.field("embedding_dim")],
                          problem: "embedding dimensions for all nodes must match: table '\(t.name)' has \(t.embeddingDim), table '\(first.name)' has \(first.embeddingDim)",
                          fix: "Give every table the same embedding_dim (a relation scores ⟨e_lhs, e_rhs + t_r⟩).")
      }
      guard t.dataType == first.dataType else {
        throw ConfigError(.invalidValue, path: path + [.field("data_type")],
                          problem: "data types for all nodes must match: table '\(t.name)' is \(t.dataType.rawValue), table '\(first.name)' is \(first.dataType.rawValue)",
                          fix: "Give every table the same data_type.")
      }
      guard seen.insert(t.name).inserted else {
        throw ConfigError(.invalidValue, path: path + [.field("name")],
                          problem: "table '\(t.name)' is listed twice", fix: "Give each table a unique name.")
      }
    }
    for (i, name) in (tablesToLog ?? []).enumerated() where !seen.contains(name) {
      throw ConfigError(.invalidValue, path: c.codingPath.map(ConfigPathComponent.init) + [.field("tables_to_log"), .index(i)],
                        problem: "'\(name)' is not a table", fix: "List table names from model.embeddings.tables: \(tables.map(\.name).joined(separator: ", ")).")
    }
  }
}

/// Storage type of the tables (the original's `DataType`). SwiftTML trains in fp32 in
/// either case; `fp16` stores the model in checkpoints as F16 (half the disk).
public enum TwHINDataType: String, ConfigEnum {
  case fp32, fp16
}

/// One node table (the original's `EmbeddingBagConfig`).
///
///     - name: user
///       num_embeddings: 424_241
///       embedding_dim: 4
///       data_type: fp32
///       optimizer: {rowwise_adagrad: {lr: 0.1}}   # fused (see TwHINTableOptimizerConfig)
///       vocab: data/vocab/user/*.parquet     # optional: raw id → row
public struct TwHINTableConfig: Codable, Equatable, Sendable {
  public var name: String
  public var numEmbeddings: Int
  public var embeddingDim: Int
  public var pretrained: TwHINEmbeddingSnapshot?
  /// Files (a directory, file or glob) mapping raw entity ids to rows of this table.
  public var vocab: String?
  public var optimizer: TwHINTableOptimizerConfig
  public var dataType: TwHINDataType

  enum CodingKeys: String, CodingKey, CaseIterable {
    case name, numEmbeddings = "num_embeddings", embeddingDim = "embedding_dim", pretrained, vocab, optimizer
    case dataType = "data_type"
  }

  public init(name: String, numEmbeddings: Int, embeddingDim: Int, pretrained: TwHINEmbeddingSnapshot? = nil, vocab: String? = nil,
              optimizer: TwHINTableOptimizerConfig, dataType: TwHINDataType = .fp32) {
    self.name = name
    self.numEmbeddings = numEmbeddings
    self.embeddingDim = embeddingDim
    self.pretrained = pretrained
    self.vocab = vocab
    self.optimizer = optimizer
    self.dataType = dataType
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    name = try c.decode(.name)
    numEmbeddings = try c.decode(.numEmbeddings, .positive)
    embeddingDim = try c.decode(.embeddingDim, .positive)
    pretrained = try c.decodeIfPresent(.pretrained)
    vocab = try c.decodeIfPresent(.vocab)
    optimizer = try c.decode(.optimizer)
    dataType = try c.decode(.dataType)
    guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
      throw c.error(.name, .invalidValue, "'\(name)' cannot name a table (it is used in state-dict keys and file names)", "Use a plain name such as user or tweet.")
    }
  }
}

/// `pretrained:` — initial rows for a table; see `EmbeddingSnapshotConfig`.
public typealias TwHINEmbeddingSnapshot = EmbeddingSnapshotConfig

/// How a relation combines its embeddings (`RelationOperator`): the original defines only
/// `translation`; SwiftTML adds `diagonal` (DistMult) and `complex` (ComplEx).
public enum TwHINOperator: String, ConfigEnum {
  case translation, diagonal, complex
}

/// One edge type (the original's `Relation`): `lhs` and `rhs` name tables.
public struct TwHINRelationConfig: Codable, Equatable, Sendable {
  public var name: String
  public var lhs: String
  public var rhs: String
  public var `operator`: TwHINOperator

  enum CodingKeys: String, CodingKey, CaseIterable { case name, lhs, rhs, `operator` }

  public init(name: String, lhs: String, rhs: String, operator op: TwHINOperator = .translation) {
    self.name = name
    self.lhs = lhs
    self.rhs = rhs
    self.operator = op
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    name = try c.decode(.name)
    lhs = try c.decode(.lhs)
    rhs = try c.decode(.rhs)
    `operator` = try c.decode(.operator, default: .translation)
  }
}
