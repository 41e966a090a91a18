import TMLTrain

/// `train_data:` and each entry of `validation_data:` — one dataset of the ranker
/// (the original's `RecapDataConfig`, which extends its `DatasetConfig`): where the
/// records are (exactly one of `inputs | explicit_datetime_inputs | explicit_date_inputs`),
/// how to read them (`seg_dense_schema`), the label tasks with the rates the data was
/// sampled at, and the preprocessing.
///
/// `TMLData.RecapDataConfig` is the runtime form the data pipeline takes.
///
///     train_data:
///       inputs: ${HOME}/data/*.gz
///       global_batch_size: 128
///       seg_dense_schema: {schema_path: segdense.json, renamed_features: {continuous: ...}}
///       tasks: {recap.engagement.is_favorited: {neg_downsampling_rate: 0.01}}
public struct RecapDatasetConfig: Codable, Equatable, Sendable {
  // DatasetConfig
  /// A glob of record files.
  public var inputs: String?
  public var explicitDatetimeInputs: ExplicitDatetimeInputs?
  public var explicitDateInputs: ExplicitDateInputs?
  public var globalBatchSize: Int
  /// Keep only this many files (shards).
  public var numFilesToKeep: Int?
  /// Deprecated in the original (files always repeat); accepted and ignored.
  public var repeatFiles: Bool
  public var fileBatchSize: Int
  public var cache: Bool
  public var dataServiceDispatcher: String?
  /// Skip (and count) corrupt records instead of failing.
  public var ignoreDataErrors: Bool
  public var datasetServiceCompression: Compression?
  public var examplesShuffleBufferSize: Int
  public var mapNumParallelCalls: Int?
  public var interleaveNumParallelCalls: Int?

  // RecapDataConfig
  public var segDenseSchema: SegDenseSchema
  /// Label name → sampling rates, in file order.
  public var tasks: ConfigMap<TaskData>
  /// The tasks to report metrics for; empty means all.
  public var evaluationTasks: [String]
  public var preprocess: RecapPreprocessConfig?
  /// Deprecated in the original; accepted for compatibility.
  public var sampler: Sampler?

  /// `dataset_service_compression` (the original's only value is `AUTO`).
  public enum Compression: String, ConfigEnum { case auto = "AUTO" }

  /// `explicit_date_inputs:` — `days` days of data ending at `end_date` under `data_root`.
  public struct ExplicitDateInputs: Codable, Equatable, Sendable {
    public var dataRoot: String
    public var endDate: String
    public var days: Int
    public var numMissingDaysTol: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
      case dataRoot = "data_root", endDate = "end_date", days, numMissingDaysTol = "num_missing_days_tol"
    }

    public init(dataRoot: String, endDate: String, days: Int, numMissingDaysTol: Int = 0) {
      self.dataRoot = dataRoot
      self.endDate = endDate
      self.days = days
      self.numMissingDaysTol = numMissingDaysTol
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      dataRoot = try c.decode(.dataRoot)
      endDate = try c.decode(.endDate)
      days = try c.decode(.days)
      numMissingDaysTol = try c.decode(.numMissingDaysTol, default: 0)
    }
  }

  /// `explicit_datetime_inputs:` — `hours` hours of data ending at `end_datetime` under `data_root`.
  public struct ExplicitDatetimeInputs: Codable, Equatable, Sendable {
    public var dataRoot: String
    public var endDatetime: String
    public var hours: Int
    public var numMissingHoursTol: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
      case dataRoot = "data_root", endDatetime = "end_datetime", hours, numMissingHoursTol = "num_missing_hours_tol"
    }

    public init(dataRoot: String, endDatetime: String, hours: Int, numMissingHoursTol: Int = 0) {
      self.dataRoot = dataRoot
      self.endDatetime = endDatetime
      self.hours = hours
      self.numMissingHoursTol = numMissingHoursTol
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      dataRoot = try c.decode(.dataRoot)
      endDatetime = try c.decode(.endDatetime)
      hours = try c.decode(.hours)
      numMissingHoursTol = try c.decode(.numMissingHoursTol, default: 0)
    }
  }

  /// `seg_dense_schema:` — the schema file and the model inputs read from it.
  public struct SegDenseSchema: Codable, Equatable, Sendable {
    public var schemaPath: String
    /// Features to read besides the renamed ones.
    public var features: [String]
    /// Model input (`continuous`, `binary`, `discrete`, `user_embedding`, …, `meta__*`) → schema feature.
    public var renamedFeatures: ConfigMap<String>
    /// Feature → mantissa bits to zero (simulates lower precision).
    public var maskMantissaFeatures: ConfigMap<Int>

    enum CodingKeys: String, CodingKey, CaseIterable {
      case schemaPath = "schema_path", features, renamedFeatures = "renamed_features"
      case maskMantissaFeatures = "mask_mantissa_features"
    }

    public init(schemaPath: String, features: [String] = [], renamedFeatures: ConfigMap<String> = [:],
                maskMantissaFeatures: ConfigMap<Int> = [:]) {
      self.schemaPath = schemaPath
      self.features = features
      self.renamedFeatures = renamedFeatures
      self.maskMantissaFeatures = maskMantissaFeatures
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      schemaPath = try c.decode(.schemaPath)
      features = try c.decode(.features, default: [])
      renamedFeatures = try c.decode(.renamedFeatures, default: [:])
      maskMantissaFeatures = try c.decode(.maskMantissaFeatures, default: [:])
    }
  }

  /// A label task: the rates at which positives and negatives were kept when the data
  /// was sampled (example weight y/pos + (1 − y)/neg; calibration ratio neg/pos).
  public struct TaskData: Codable, Equatable, Sendable {
    public var posDownsamplingRate: Double
    public var negDownsamplingRate: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
      case posDownsamplingRate = "pos_downsampling_rate", negDownsamplingRate = "neg_downsampling_rate"
    }

    public init(posDownsamplingRate: Double = 1, negDownsamplingRate: Double = 1) {
      self.posDownsamplingRate = posDownsamplingRate
      self.negDownsamplingRate = negDownsamplingRate
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      posDownsamplingRate = try c.decode(.posDownsamplingRate, default: 1.0, .positive)
      negDownsamplingRate = try c.decode(.negDownsamplingRate, default: 1.0, .positive)
    }
  }

  /// `sampler:` — deprecated in the original; `name` and free-form `kwargs`.
  public struct Sampler: Codable, Equatable, Sendable {
    public var name: String
    public var kwargs: ConfigMap<ConfigValue>

    enum CodingKeys: String, CodingKey, CaseIterable { case name, kwargs }

    public init(name: String, kwargs: ConfigMap<ConfigValue>) {
      self.name = name
      self.kwargs = kwargs
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      name = try c.decode(.name)
      kwargs = try c.decode(.kwargs)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case inputs, explicitDatetimeInputs = "explicit_datetime_inputs", explicitDateInputs = "explicit_date_inputs"
    case globalBatchSize = "global_batch_size", numFilesToKeep = "num_files_to_keep", repeatFiles = "repeat_files"
    case fileBatchSize = "file_batch_size", cache, dataServiceDispatcher = "data_service_dispatcher"
    case ignoreDataErrors = "ignore_data_errors", datasetServiceCompression = "dataset_service_compression"
    case examplesShuffleBufferSize = "examples_shuffle_buffer_size", mapNumParallelCalls = "map_num_parallel_calls"
    case interleaveNumParallelCalls = "interleave_num_parallel_calls"
    case segDenseSchema = "seg_dense_schema", tasks, evaluationTasks = "evaluation_tasks", preprocess, sampler
  }

  public init(inputs: String? = nil, explicitDatetimeInputs: ExplicitDatetimeInputs? = nil,
              explicitDateInputs: ExplicitDateInputs? = nil, globalBatchSize: Int, numFilesToKeep: Int? = nil,
              repeatFiles: Bool = true, fileBatchSize: Int = 16, cache: Bool = false, dataServiceDispatcher: String? = nil,
              ignoreDataErrors: Bool = false, datasetServiceCompression: Compression? = nil,
              examplesShuffleBufferSize: Int = 1024, mapNumParallelCalls: Int? = nil, interleaveNumParallelCalls: Int? = nil,
              segDenseSchema: SegDenseSchema, tasks: ConfigMap<TaskData>, evaluationTasks: [String] = [],
              preprocess: RecapPreprocessConfig? = nil, sampler: Sampler? = nil) {
    self.inputs = inputs
    self.explicitDatetimeInputs = explicitDatetimeInputs
    self.explicitDateInputs = explicitDateInputs
    self.globalBatchSize = globalBatchSize
    self.numFilesToKeep = numFilesToKeep
    self.repeatFiles = repeatFiles
    self.fileBatchSize = fileBatchSize
    self.cache = cache
    self.dataServiceDispatcher = dataServiceDispatcher
    self.ignoreDataErrors = ignoreDataErrors
    self.datasetServiceCompression = datasetServiceCompression
    self.examplesShuffleBufferSize = examplesShuffleBufferSize
    self.mapNumParallelCalls = mapNumParallelCalls
    self.interleaveNumParallelCalls = interleaveNumParallelCalls
    self.segDenseSchema = segDenseSchema
    self.tasks = tasks
    self.evaluationTasks = evaluationTasks
    self.preprocess = preprocess
    self.sampler = sampler
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    try c.exactlyOne(of: [.inputs, .explicitDatetimeInputs, .explicitDateInputs])
    inputs = try c.decodeIfPresent(.inputs)
    explicitDatetimeInputs = try c.decodeIfPresent(.explicitDatetimeInputs)
    explicitDateInputs = try c.decodeIfPresent(.explicitDateInputs)
    globalBatchSize = try c.decode(.globalBatchSize, .positive)
    numFilesToKeep = try c.decodeIfPresent(.numFilesToKeep, .positive)
    repeatFiles = try c.decode(.repeatFiles, default: true)
    fileBatchSize = try c.decode(.fileBatchSize, default: 16, .positive)
    cache = try c.decode(.cache, default: false)
    dataServiceDispatcher = try c.decodeIfPresent(.dataServiceDispatcher)
    ignoreDataErrors = try c.decode(.ignoreDataErrors, default: false)
    datasetServiceCompression = try c.decodeIfPresent(.datasetServiceCompression)
    examplesShuffleBufferSize = try c.decode(.examplesShuffleBufferSize, default: 1024)
    mapNumParallelCalls = try c.decodeIfPresent(.mapNumParallelCalls, .positive)
    interleaveNumParallelCalls = try c.decodeIfPresent(.interleaveNumParallelCalls, .positive)
    segDenseSchema = try c.decode(.segDenseSchema)
    tasks = try c.decode(.tasks)
    evaluationTasks = try c.decode(.evaluationTasks, default: [])
    preprocess = try c.decodeIfPresent(.preprocess)
    sampler = try c.decodeIfPresent(.sampler)
    if let unknown = evaluationTasks.first(where: { tasks[$0] == nil }) {
      throw c.error(.evaluationTasks, .invalidValue, "evaluation task '\(unknown)' is not one of this dataset's tasks",
                    "List only names under 'tasks:' (\(tasks.keys.joined(separator: ", "))), or add the task there.")
    }
  }
}
