import TMLTrain

/// `preprocess:` — transforms applied to each batch before the model (the original's
/// `Preprocess`): `truncate_and_slice`, `downcast`, `rectify_labels`, `extract_features`,
/// `downsample_negatives`, each optional.
///
///     preprocess:
///       truncate_and_slice: {continuous_feature_truncation: 2117, binary_feature_truncation: 59}
public struct RecapPreprocessConfig: Codable, Equatable, Sendable {
  public var truncateAndSlice: TruncateAndSlice?
  public var downcast: Downcast?
  public var rectifyLabels: RectifyLabels?
  public var extractFeatures: ExtractFeatures?
  public var downsampleNegatives: DownsampleNegatives?

  /// Keep the first N continuous/binary features, then (optionally) the columns a
  /// mask file (`.npy`) selects.
  public struct TruncateAndSlice: Codable, Equatable, Sendable {
    public var continuousFeatureTruncation: Int?
    public var binaryFeatureTruncation: Int?
    public var continuousFeatureMaskPath: String?
    public var binaryFeatureMaskPath: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
      case continuousFeatureTruncation = "continuous_feature_truncation", binaryFeatureTruncation = "binary_feature_truncation"
      case continuousFeatureMaskPath = "continuous_feature_mask_path", binaryFeatureMaskPath = "binary_feature_mask_path"
    }

    public init(continuousFeatureTruncation: Int? = nil, binaryFeatureTruncation: Int? = nil,
                continuousFeatureMaskPath: String? = nil, binaryFeatureMaskPath: String? = nil) {
      self.continuousFeatureTruncation = continuousFeatureTruncation
      self.binaryFeatureTruncation = binaryFeatureTruncation
      self.continuousFeatureMaskPath = continuousFeatureMaskPath
      self.binaryFeatureMaskPath = binaryFeatureMaskPath
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      continuousFeatureTruncation = try c.decodeIfPresent(.continuousFeatureTruncation, .positive)
      binaryFeatureTruncation = try c.decodeIfPresent(.binaryFeatureTruncation, .positive)
      continuousFeatureMaskPath = try c.decodeIfPresent(.continuousFeatureMaskPath)
      binaryFeatureMaskPath = try c.decodeIfPresent(.binaryFeatureMaskPath)
    }
  }

  /// `downcast: {features: {name: dtype}}` — cast features to a smaller type.
  public struct Downcast: Codable, Equatable, Sendable {
    public enum DataType: String, ConfigEnum { case bfloat16, bool, float32, float16, uint8 }

    public var features: ConfigMap<DataType>?

    enum CodingKeys: String, CodingKey, CaseIterable { case features }

    public init(features: ConfigMap<DataType>? = nil) { self.features = features }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      features = try c.decodeIfPresent(.features)
    }
  }

  /// Set a label to 0 unless both the impression and the engagement (the label's
  /// timestamp field) came within `label_rectification_window_in_hours` of serving.
  public struct RectifyLabels: Codable, Equatable, Sendable {
    public var labelRectificationWindowInHours: Double
    public var servedTimestampField: String
    public var impressedTimestampField: String
    public var labelToEngagedTimestampField: ConfigMap<String>

    enum CodingKeys: String, CodingKey, CaseIterable {
      case labelRectificationWindowInHours = "label_rectification_window_in_hours"
      case servedTimestampField = "served_timestamp_field", impressedTimestampField = "impressed_timestamp_field"
      case labelToEngagedTimestampField = "label_to_engaged_timestamp_field"
    }

    public init(labelRectificationWindowInHours: Double = 3, servedTimestampField: String, impressedTimestampField: String,
                labelToEngagedTimestampField: ConfigMap<String>) {
      self.labelRectificationWindowInHours = labelRectificationWindowInHours
      self.servedTimestampField = servedTimestampField
      self.impressedTimestampField = impressedTimestampField
      self.labelToEngagedTimestampField = labelToEngagedTimestampField
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      labelRectificationWindowInHours = try c.decode(.labelRectificationWindowInHours, default: 3.0)
      servedTimestampField = try c.decode(.servedTimestampField)
      impressedTimestampField = try c.decode(.impressedTimestampField)
      labelToEngagedTimestampField = try c.decode(.labelToEngagedTimestampField)
    }
  }

  /// `extract_features: {extract_feature_table: [{name, source_tensor, index}]}` — new
  /// inputs copied from one column of a dense tensor.
  public struct ExtractFeatures: Codable, Equatable, Sendable {
    public struct Row: Codable, Equatable, Sendable {
      public var name: String
      public var sourceTensor: String
      public var index: Int

      enum CodingKeys: String, CodingKey, CaseIterable { case name, sourceTensor = "source_tensor", index }

      public init(name: String, sourceTensor: String, index: Int) {
        self.name = name
        self.sourceTensor = sourceTensor
        self.index = index
      }

      public init(from decoder: any Decoder) throws {
        let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
        name = try c.decode(.name)
        sourceTensor = try c.decode(.sourceTensor)
        index = try c.decode(.index)
      }
    }

    public var extractFeatureTable: [Row]

    enum CodingKeys: String, CodingKey, CaseIterable { case extractFeatureTable = "extract_feature_table" }

    public init(extractFeatureTable: [Row] = []) { self.extractFeatureTable = extractFeatureTable }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      extractFeatureTable = try c.decode(.extractFeatureTable, default: [])
    }
  }

  /// Read `batch_multiplier` × the batch, keep every positive (any engagement of
  /// `engagements_list`), fill the batch with negatives and up-weight them to match.
  public struct DownsampleNegatives: Codable, Equatable, Sendable {
    public var batchMultiplier: Int?
    public var engagementsList: [String]
    public var numEngagements: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
      case batchMultiplier = "batch_multiplier", engagementsList = "engagements_list", numEngagements = "num_engagements"
    }

    public init(batchMultiplier: Int? = nil, engagementsList: [String] = [], numEngagements: Int) {
      self.batchMultiplier = batchMultiplier
      self.engagementsList = engagementsList
      self.numEngagements = numEngagements
    }

    public init(from decoder: any Decoder) throws {
      let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
      batchMultiplier = try c.decodeIfPresent(.batchMultiplier)
      engagementsList = try c.decode(.engagementsList, default: [])
      numEngagements = try c.decode(.numEngagements)
    }
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case truncateAndSlice = "truncate_and_slice", downcast, rectifyLabels = "rectify_labels"
    case extractFeatures = "extract_features", downsampleNegatives = "downsample_negatives"
  }

  public init(truncateAndSlice: TruncateAndSlice? = nil, downcast: Downcast? = nil, rectifyLabels: RectifyLabels? = nil,
              extractFeatures: ExtractFeatures? = nil, downsampleNegatives: DownsampleNegatives? = nil) {
    self.truncateAndSlice = truncateAndSlice
    self.downcast = downcast
    self.rectifyLabels = rectifyLabels
    self.extractFeatures = extractFeatures
    self.downsampleNegatives = downsampleNegatives
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    truncateAndSlice = try c.decodeIfPresent(.truncateAndSlice)
    downcast = try c.decodeIfPresent(.downcast)
    rectifyLabels = try c.decodeIfPresent(.rectifyLabels)
    extractFeatures = try c.decodeIfPresent(.extractFeatures)
    downsampleNegatives = try c.decodeIfPresent(.downsampleNegatives)
  }
}
