import TMLTrain

/// `large_embeddings:` — embedding tables gathered into one embedding-bag collection
/// (the original's recap `LargeEmbeddingsConfig`), trained with their own optimizer.
public struct RecapLargeEmbeddingsConfig: Codable, Equatable, Sendable {
  public var tables: [Table]
  public var optimizer: Optimizer
  public var tablesToLog: [String]?

  /// One table: `num_embeddings` rows of `embedding_dim`, optionally initialised from a snapshot.
  public struct Table: Codable, Equatable, Sendable {
    public var name: String
    public var numEmbeddings: Int
    public var embeddingDim: Int
    public var pretrained: Snapshot?
    /// Directory of parquet files mapping entity ids to rows.
    public var vocab: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
      case name, numEmbeddings = "num_embeddings", embeddingDim = "embedding_dim", pretrained, vocab
    }

    public init(name: String, numEmbeddings: Int, embeddingDim: Int, pretrained: Snapshot? = nil, vocab: String? = nil) {
      self.name = name
      self.numEmbeddings = numEmbeddings
      self.embeddingDim = embeddingDim
      self.pretrained = pretrained
      self.vocab = vocab
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      name = try c.decode(.name)
      numEmbeddings = try c.decode(.numEmbeddings, .positive)
      embeddingDim = try c.decode(.embeddingDim, .positive)
      pretrained = try c.decodeIfPresent(.pretrained)
      vocab = try c.decodeIfPresent(.vocab)
    }
  }

  /// `pretrained:` — see `EmbeddingSnapshotConfig`.
  public typealias Snapshot = EmbeddingSnapshotConfig

  /// `optimizer:` — SGD on the tables at `init_learning_rate`, optionally scheduled.
  public struct Optimizer: Codable, Equatable, Sendable {
    public var learningRate: LearningRateConfig?
    public var initLearningRate: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case learningRate = "learning_rate", initLearningRate = "init_learning_rate" }

    public init(learningRate: LearningRateConfig? = nil, initLearningRate: Double) {
      self.learningRate = learningRate
      self.initLearningRate = initLearningRate
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      learningRate = try c.decodeIfPresent(.learningRate)
      initLearningRate = try c.decode(.initLearningRate)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable { case tables, optimizer, tablesToLog = "tables_to_log" }

  public init(tables: [Table], optimizer: Optimizer, tablesToLog: [String]? = nil) {
    self.tables = tables
    self.optimizer = optimizer
    self.tablesToLog = tablesToLog
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    tables = try c.decode(.tables)
    optimizer = try c.decode(.optimizer)
    tablesToLog = try c.decodeIfPresent(.tablesToLog)
  }
}

/// `small_embeddings:` — small tables over columns of the `discrete` features, trained
/// with the rest of the model (the original's `SmallEmbeddingsConfig`).
public struct RecapSmallEmbeddingsConfig: Codable, Equatable, Sendable {
  public var tables: [Table]

  /// One table embedding column `index` of the discrete features.
  public struct Table: Codable, Equatable, Sendable {
    public var name: String
    public var numEmbeddings: Int
    public var embeddingDim: Int
    public var index: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
      case name, numEmbeddings = "num_embeddings", embeddingDim = "embedding_dim", index
    }

    public init(name: String, numEmbeddings: Int, embeddingDim: Int, index: Int) {
      self.name = name
      self.numEmbeddings = numEmbeddings
      self.embeddingDim = embeddingDim
      self.index = index
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      name = try c.decode(.name)
      numEmbeddings = try c.decode(.numEmbeddings, .positive)
      embeddingDim = try c.decode(.embeddingDim, .positive)
      index = try c.decode(.index, .nonNegative)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable { case tables }

  public init(tables: [Table]) { self.tables = tables }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    tables = try c.decode(.tables)
  }
}

/// `stratifiers:` entry — report metrics also for examples whose discrete feature
/// `index` equals `value`, under `name`.
public struct RecapStratifierConfig: Codable, Equatable, Sendable {
  public var name: String
  public var index: Int
  public var value: Int

  enum CodingKeys: String, CodingKey, CaseIterable { case name, index, value }

  public init(name: String, index: Int, value: Int) {
    self.name = name
    self.index = index
    self.value = value
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    name = try c.decode(.name)
    index = try c.decode(.index)
    value = try c.decode(.value)
  }
}
