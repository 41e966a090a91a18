/// The data side of a Heavy Ranker config (the original's `RecapDataConfig`): which
/// features to read from the segdense schema and under which model-input names, the
/// label tasks with their sampling rates, and the preprocessing.
public struct RecapDataConfig: Equatable, Sendable {
  /// `seg_dense_schema`: the schema file and the model inputs it feeds.
  public struct SegDenseSchemaConfig: Equatable, Sendable {
    public var schemaPath: String
    /// Extra schema features to read besides the renamed ones.
    public var features: [String]
    /// Model input name → schema feature name: `continuous`, `binary`, `discrete`,
    /// `user_embedding`, `user_eng_embedding`, `author_embedding`, `meta__*`.
    public var renamedFeatures: [String: String]
    public init(schemaPath: String, features: [String] = [], renamedFeatures: [String: String] = [:]) {
      self.schemaPath = schemaPath
      self.features = features
      self.renamedFeatures = renamedFeatures
    }
  }

  /// `tasks.<label>`: the rates at which positives and negatives were kept when the data
  /// was sampled; they give each example the weight y/pos + (1 − y)/neg.
  public struct TaskData: Equatable, Sendable {
    public var posDownsamplingRate: Double
    public var negDownsamplingRate: Double
    public init(posDownsamplingRate: Double = 1, negDownsamplingRate: Double = 1) {
      self.posDownsamplingRate = posDownsamplingRate
      self.negDownsamplingRate = negDownsamplingRate
    }
  }

  /// A glob of input files, or (with `datedInputs`) a description of them for logs.
  public var inputs: String
  /// Files chosen by time (`explicit_datetime_inputs` / `explicit_date_inputs`); when
  /// set it replaces the glob `inputs`.
  public var datedInputs: DatedInputs?
  public var globalBatchSize: Int
  public var segDenseSchema: SegDenseSchemaConfig
  /// Label tasks in config order.
  public var tasks: [(name: String, data: TaskData)]
  public var evaluationTasks: [String]
  public var preprocess: PreprocessConfig?
  public var ignoreDataErrors: Bool
  public var examplesShuffleBufferSize: Int

  public init(inputs: String, globalBatchSize: Int, segDenseSchema: SegDenseSchemaConfig,
              tasks: [(name: String, data: TaskData)], evaluationTasks: [String] = [],
              preprocess: PreprocessConfig? = nil, ignoreDataErrors: Bool = false, examplesShuffleBufferSize: Int = 1024,
              datedInputs: DatedInputs? = nil) {
    self.inputs = inputs
    self.datedInputs = datedInputs
    self.globalBatchSize = globalBatchSize
    self.segDenseSchema = segDenseSchema
    self.tasks = tasks
    self.evaluationTasks = evaluationTasks
    self.preprocess = preprocess
    self.ignoreDataErrors = ignoreDataErrors
    self.examplesShuffleBufferSize = examplesShuffleBufferSize
  }

  /// The input files: the dated folders' `.gz` files, or the glob's matches.
  public func inputFiles() throws -> [String] {
    if let datedInputs { return try datedInputs.files() }
    return try FileGlob.expand(inputs)
  }

  public static func == (a: RecapDataConfig, b: RecapDataConfig) -> Bool {
    a.inputs == b.inputs && a.datedInputs == b.datedInputs && a.globalBatchSize == b.globalBatchSize && a.segDenseSchema == b.segDenseSchema
      && a.tasks.map(\.name) == b.tasks.map(\.name) && a.tasks.map(\.data) == b.tasks.map(\.data)
      && a.evaluationTasks == b.evaluationTasks && a.preprocess == b.preprocess
      && a.ignoreDataErrors == b.ignoreDataErrors && a.examplesShuffleBufferSize == b.examplesShuffleBufferSize
  }
}

/// `preprocess`: the original's preprocessors, applied in its order —
/// downsample_negatives, truncate_and_slice, downcast, rectify_labels, extract_features.
public struct PreprocessConfig: Equatable, Sendable {
  public struct TruncateAndSlice: Equatable, Sendable {
    public var continuousFeatureTruncation: Int?
    public var binaryFeatureTruncation: Int?
    public var continuousFeatureMaskPath: String?
    public var binaryFeatureMaskPath: String?
    public init(continuousFeatureTruncation: Int? = nil, binaryFeatureTruncation: Int? = nil,
                continuousFeatureMaskPath: String? = nil, binaryFeatureMaskPath: String? = nil) {
      self.continuousFeatureTruncation = continuousFeatureTruncation
      self.binaryFeatureTruncation = binaryFeatureTruncation
      self.continuousFeatureMaskPath = continuousFeatureMaskPath
      self.binaryFeatureMaskPath = binaryFeatureMaskPath
    }
  }

  public enum DownCastType: String, Equatable, Sendable { case bfloat16, bool, float32, float16, uint8 }

  public struct RectifyLabels: Equatable, Sendable {
    public var labelRectificationWindowInHours: Double
    public var servedTimestampField: String
    public var impressedTimestampField: String
    public var labelToEngagedTimestampField: [String: String]
    public init(labelRectificationWindowInHours: Double = 3, servedTimestampField: String,
                impressedTimestampField: String, labelToEngagedTimestampField: [String: String]) {
      self.labelRectificationWindowInHours = labelRectificationWindowInHours
      self.servedTimestampField = servedTimestampField
      self.impressedTimestampField = impressedTimestampField
      self.labelToEngagedTimestampField = labelToEngagedTimestampField
    }
  }

  public struct ExtractFeature: Equatable, Sendable {
    public var name: String
    public var sourceTensor: String
    public var index: Int
    public init(name: String, sourceTensor: String, index: Int) {
      self.name = name
      self.sourceTensor = sourceTensor
      self.index = index
    }
  }

  public struct DownsampleNegatives: Equatable, Sendable {
    public var batchMultiplier: Int
    public var engagementsList: [String]
    public var numEngagements: Int
    public init(batchMultiplier: Int, engagementsList: [String], numEngagements: Int) {
      self.batchMultiplier = batchMultiplier
      self.engagementsList = engagementsList
      self.numEngagements = numEngagements
    }
  }

  public var truncateAndSlice: TruncateAndSlice?
  public var downcast: [String: DownCastType]?
  public var rectifyLabels: RectifyLabels?
  public var extractFeatures: [ExtractFeature]?
  public var downsampleNegatives: DownsampleNegatives?

  public init(truncateAndSlice: TruncateAndSlice? = nil, downcast: [String: DownCastType]? = nil,
              rectifyLabels: RectifyLabels? = nil, extractFeatures: [ExtractFeature]? = nil,
              downsampleNegatives: DownsampleNegatives? = nil) {
    self.truncateAndSlice = truncateAndSlice
    self.downcast = downcast
    self.rectifyLabels = rectifyLabels
    self.extractFeatures = extractFeatures
    self.downsampleNegatives = downsampleNegatives
  }
}
