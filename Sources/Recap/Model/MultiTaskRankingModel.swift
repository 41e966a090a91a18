import TMLDistributed
import TMLNN
import TMLTensor

/// The Heavy Ranker (the original's `MultiTaskRankingModel`):
///
///     x   = DoubleNormLog(continuous, binary)
///     h   = concat(x, large_embeddings(ids)?, small_embeddings(discrete)?, LN(user_embedding)?, LN(user_eng_embedding)?, LN(author_embedding)?, position_debias?)
///     net = share_all: backbone(h) | share_partial: concat(h, backbone(h)) | share_none: h
///     for each task t (config order):  z_t = affine_t(tower_t(net));  p_t = σ(z_t)
///                                      calibrated_t = p_t·r_t / (1 − p_t + r_t·p_t)
///
/// State names equal the original's `state_dict()` keys: `_preprocessor.*`,
/// `_user_embedding_layer_norm.*`, …, `_backbone.*`, `_towers.<task>.*`,
/// `_affine_maps.<task>.*`, `_calibrators.<task>.ratio`, where <task> has `.` → `__`;
/// id-embedding tables are `embeddings.ebc.embedding_bags.<table>.weight` (large) and
/// `small_embeddings.embedding_bags.<table>.weight` (small).
public final class MultiTaskRankingModel: Module {
  public enum MultiTaskType: String, Sendable { case shareAll = "share_all", sharePartial = "share_partial", shareNone = "share_none" }

  public struct TaskSpec: Sendable {
    public var name: String
    public var architecture: ArchitectureSpec
    public var affineMap: (scale: Float, bias: Float)?
    public var posWeight: Float
    public var posDownsamplingRate: Double
    public var negDownsamplingRate: Double
    public init(name: String, architecture: ArchitectureSpec, affineMap: (scale: Float, bias: Float)? = nil,
                posWeight: Float = 1, posDownsamplingRate: Double = 1, negDownsamplingRate: Double = 1) {
      self.name = name
      self.architecture = architecture
      self.affineMap = affineMap
      self.posWeight = posWeight
      self.posDownsamplingRate = posDownsamplingRate
      self.negDownsamplingRate = negDownsamplingRate
    }
  }

  public struct Spec: Sendable {
    public var continuousFeatures: Int
    public var binaryFeatures: Int
    public var batchNorm: RecapMLP.BatchNormSpec?
    public var clipMagnitude: Float
    public var layerNorm: (epsilon: Float, affine: Bool)?
    public var userEmbeddingDim: Int?
    public var userEngEmbeddingDim: Int?
    public var authorEmbeddingDim: Int?
    public var positionDebias: (maxPosition: Int, numDims: Int, dropProbability: Float, featureIndex: Int)?
    public var multiTaskType: MultiTaskType
    public var backbone: ArchitectureSpec?
    public var tasks: [TaskSpec]
    /// `large_embeddings` tables (ids from the batch feature named like the table) and
    /// their SGD learning rate.
    public var largeEmbeddings: [IdEmbeddingTableSpec] = []
    public var largeEmbeddingLearningRate: LearningRateSchedule = .constant(0)
    /// `small_embeddings` tables (ids from a discrete-feature column).
    public var smallEmbeddings: [IdEmbeddingTableSpec] = []

    public init(continuousFeatures: Int, binaryFeatures: Int, batchNorm: RecapMLP.BatchNormSpec? = nil, clipMagnitude: Float = 5,
                layerNorm: (epsilon: Float, affine: Bool)? = nil, userEmbeddingDim: Int? = nil, userEngEmbeddingDim: Int? = nil,
                authorEmbeddingDim: Int? = nil,
                positionDebias: (maxPosition: Int, numDims: Int, dropProbability: Float, featureIndex: Int)? = nil,
                multiTaskType: MultiTaskType, backbone: ArchitectureSpec?, tasks: [TaskSpec],
                largeEmbeddings: [IdEmbeddingTableSpec] = [], largeEmbeddingLearningRate: LearningRateSchedule = .constant(0),
                smallEmbeddings: [IdEmbeddingTableSpec] = []) {
      self.continuousFeatures = continuousFeatures
      self.binaryFeatures = binaryFeatures
      self.batchNorm = batchNorm
      self.clipMagnitude = clipMagnitude
      self.layerNorm = layerNorm
      self.userEmbeddingDim = userEmbeddingDim
      self.userEngEmbeddingDim = userEngEmbeddingDim
      self.authorEmbeddingDim = authorEmbeddingDim
      self.positionDebias = positionDebias
      self.multiTaskType = multiTaskType
      self.backbone = backbone
      self.tasks = tasks
      self.largeEmbeddings = largeEmbeddings
      self.largeEmbeddingLearningRate = largeEmbeddingLearningRate
      self.smallEmbeddings = smallEmbeddings
    }
  }

  /// The model's outputs, [B, T] each, columns in `taskNames` order.
  public struct Output {
    public var logits: Tensor
    public var probabilities: Tensor
    public var calibratedProbabilities: Tensor
  }

  public let spec: Spec
  public let preprocessor: DoubleNormLog
  public let largeEmbeddings: LargeIdEmbeddings?
  public let smallEmbeddings: SmallIdEmbeddings?
  public let userEmbeddingNorm: LayerNorm?
  public let userEngEmbeddingNorm: LayerNorm?
  public let authorEmbeddingNorm: LayerNorm?
  public let positionDebias: PositionDebias?
  public let backbone: (any RankingBlock)?
  public let towers: [any RankingBlock]
  public let affineMaps: [AffineMap?]
  public let calibrators: [NumericCalibration]
  public var isTraining = true
  public var taskNames: [String] { spec.tasks.map(\.name) }
  /// The towers' first layers fused into one GEMM at inference (when all towers are MLPs).
  private lazy var fusedTowers: (mlps: [RecapMLP], firstLayers: SiblingLinears)? = {
    let mlps = towers.compactMap { $0 as? RecapMLP }
    let firsts = mlps.compactMap(\.firstLinear)
    return firsts.count == towers.count && towers.count > 1 ? (mlps, SiblingLinears(firsts)) : nil
  }()

  /// `task.name` with `.` → `__` (PyTorch's ModuleDict keys cannot contain dots).
  public static func sanitize(_ task: String) -> String { task.replacingOccurrences(of: ".", with: "__") }

  /// With a `communicator` of several ranks (data-parallel training under mpirun) the
  /// `large_embeddings` tables are row-sharded over the ranks (`LargeIdEmbeddings`).
  public init(_ spec: Spec, seed: UInt64 = 0, communicator: (any Communicator)? = nil) throws {
    guard !spec.tasks.isEmpty else { throw TensorError("model.tasks must list at least one task") }
    self.spec = spec
    var rng = RandomGenerator(seed: seed, stream: 0x2A4C)
    preprocessor = DoubleNormLog(continuousFeatures: spec.continuousFeatures, binaryFeatures: spec.binaryFeatures,
                                 batchNorm: spec.batchNorm, clipMagnitude: spec.clipMagnitude, layerNorm: spec.layerNorm)
    var tableRNG = RandomGenerator(seed: seed, stream: 0xEB0C)
    largeEmbeddings = spec.largeEmbeddings.isEmpty ? nil
      : LargeIdEmbeddings(tables: spec.largeEmbeddings, learningRate: spec.largeEmbeddingLearningRate, rng: &tableRNG,
                          communicator: communicator)
    smallEmbeddings = spec.smallEmbeddings.isEmpty ? nil : SmallIdEmbeddings(tables: spec.smallEmbeddings, rng: &tableRNG)
    userEmbeddingNorm = spec.userEmbeddingDim.map { LayerNorm($0) }
    userEngEmbeddingNorm = spec.userEngEmbeddingDim.map { LayerNorm($0) }
    authorEmbeddingNorm = spec.authorEmbeddingDim.map { LayerNorm($0) }
    positionDebias = spec.positionDebias.map {
      PositionDebias(maxPosition: $0.maxPosition, numDims: $0.numDims, dropProbability: $0.dropProbability, featureIndex: $0.featureIndex, rng: &rng)
    }
    var inputDims = spec.continuousFeatures + spec.binaryFeatures
    inputDims += (largeEmbeddings?.outFeatures ?? 0) + (smallEmbeddings?.outFeatures ?? 0)
    inputDims += (spec.userEmbeddingDim ?? 0) + (spec.userEngEmbeddingDim ?? 0) + (spec.authorEmbeddingDim ?? 0)
    inputDims += positionDebias?.outFeatures ?? 0
    switch (spec.multiTaskType, spec.backbone) {
    case (.shareNone, nil): backbone = nil
    case (.shareNone, _): throw TensorError("model: a backbone cannot be used with multi_task_type share_none")
    case (_, nil): throw TensorError("model: multi_task_type \(spec.multiTaskType.rawValue) requires model.backbone")
    case (_, let b?): backbone = try b.build(inFeatures: inputDims, rng: &rng)
    }
    let towerInputs: Int
    switch spec.multiTaskType {
    case .shareNone: towerInputs = inputDims
    case .shareAll: towerInputs = backbone!.outFeatures
    case .sharePartial: towerInputs = inputDims + backbone!.outFeatures
    }
    var towers: [any RankingBlock] = []
    for task in spec.tasks {
      let tower = try task.architecture.build(inFeatures: towerInputs, rng: &rng)
      guard tower.outFeatures == 1 else {
        throw TensorError("model.tasks.\(task.name): the tower must end in 1 output (a logit), its last layer has \(tower.outFeatures)")
      }
      towers.append(tower)
    }
    self.towers = towers
    affineMaps = spec.tasks.map { t in t.affineMap.map { AffineMap(scale: $0.scale, bias: $0.bias) } }
    calibrators = spec.tasks.map { NumericCalibration(posDownsamplingRate: $0.posDownsamplingRate, negDownsamplingRate: $0.negDownsamplingRate) }
  }

  public var children: [(String, any Module)] {
    var c: [(String, any Module)] = [("_preprocessor", preprocessor)]
    if let m = largeEmbeddings { c.append(("embeddings", m)) }
    if let m = smallEmbeddings { c.append(("small_embeddings", m)) }
    if let m = userEmbeddingNorm { c.append(("_user_embedding_layer_norm", m)) }
    if let m = userEngEmbeddingNorm { c.append(("_user_eng_embedding_layer_norm", m)) }
    if let m = authorEmbeddingNorm { c.append(("_author_embedding_layer_norm", m)) }
    if let m = positionDebias { c.append(("position_debias_model", m)) }
    if let b = backbone { c.append(("_backbone", b)) }
    let names = taskNames.map(MultiTaskRankingModel.sanitize)
    c.append(("_towers", ModuleList(named: zip(names, towers).map { ($0, $1 as any Module) })))
    c.append(("_affine_maps", ModuleList(named: zip(names, affineMaps).compactMap { n, m in m.map { (n, $0 as any Module) } })))
    c.append(("_calibrators", ModuleList(named: zip(names, calibrators).map { ($0, $1 as any Module) })))
    return c
  }

  /// Forward pass on one batch of inputs; `idFeatures` holds the `large_embeddings`
  /// tables' id bags by table name.
  public func callAsFunction(continuous: Tensor, binary: Tensor, discrete: IndexTensor? = nil, userEmbedding: Tensor? = nil,
                             userEngEmbedding: Tensor? = nil, authorEmbedding: Tensor? = nil,
                             idFeatures: [String: IdBags] = [:]) throws -> Output {
    guard continuous.rank == 2, continuous.shape[1] == spec.continuousFeatures else {
      throw TensorError("ranker input: continuous features are \(describe(shape: continuous.shape)), the model expects [batch, \(spec.continuousFeatures)] (check truncate_and_slice)")
    }
    guard binary.rank == 2, binary.shape[1] == spec.binaryFeatures, binary.shape[0] == continuous.shape[0] else {
      throw TensorError("ranker input: binary features are \(describe(shape: binary.shape)), the model expects [\(continuous.shape[0]), \(spec.binaryFeatures)]")
    }
    var parts = [try preprocessor.forward(continuous: continuous, binary: binary)]
    if let e = largeEmbeddings { parts.append(try e.forward(idFeatures, batchSize: continuous.shape[0])) }
    if let e = smallEmbeddings { parts.append(try e.forward(discrete: discrete, batchSize: continuous.shape[0])) }
    for (name, norm, value) in [("user_embedding", userEmbeddingNorm, userEmbedding),
                                ("user_eng_embedding", userEngEmbeddingNorm, userEngEmbedding),
                                ("author_embedding", authorEmbeddingNorm, authorEmbedding)] {
      guard let norm else { continue }
      guard let value else {
        throw TensorError("ranker input: the model uses \(name) (renamed_features.\(name)) but the batch has none")
      }
      parts.append(try norm(value))
    }
    if let pd = positionDebias { parts.append(try pd.forward(discrete: discrete, batchSize: continuous.shape[0])) }
    let h = parts.count == 1 ? parts[0] : try Tensor.concat(parts, axis: -1)
    let net: Tensor
    switch spec.multiTaskType {
    case .shareAll: net = try backbone!.output(h)
    case .sharePartial: net = try Tensor.concat([h, try backbone!.output(h)], axis: -1)
    case .shareNone: net = h
    }
    var logits: [Tensor] = []
    let fused = fusedTowers.flatMap { $0.firstLayers.fuses ? $0 : nil }
    let firstOutputs = try fused.map { try $0.firstLayers(net) }
    for (t, tower) in towers.enumerated() {
      var z = try firstOutputs.map { try fused!.mlps[t].output(fromModule: 1, $0[t]) } ?? tower.output(net)
      if let a = affineMaps[t] { z = try a(z) }
      logits.append(z)
    }
    let z = logits.count == 1 ? logits[0] : try Tensor.concat(logits, axis: -1)
    let p = z.sigmoid()
    let calibrated = try noGrad {
      try Tensor.concat(try calibrators.enumerated().map { t, c in try c(try p.indexSelect(axis: -1, IndexTensor([t]))) }, axis: -1)
    }
    return Output(logits: z, probabilities: p, calibratedProbabilities: calibrated)
  }

  /// Sets training mode on the whole model (the ranker's sub-layers included).
  public func setTraining(_ on: Bool) { train(on) }
}
