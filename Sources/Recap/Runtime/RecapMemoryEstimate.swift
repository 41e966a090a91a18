import TMLTrain

/// The memory a Heavy Ranker run needs, estimated from its config before the model is
/// built (`RecapRun.init` checks it against `PhysicalMemory`):
///
///     each Linear in → out:   (in + 1)·out floats × (4 + 2s)
///                             value, gradient, s optimizer states (Adam 2, SGD / Adagrad 1),
///                             the packed copy inference uses, and the checkpoint's encoded
///                             copy of value and states
///     layer outputs:          batch × out floats × 6 in training (outputs of the Linear, batch
///                             norm, activation and dropout, and their gradients), × 2 in evaluation
///     input batches:          batch × input width floats × 12 in training (featurization
///                             intermediates and gradients), × 6 in evaluation
///     large_embeddings table: ⌈rows / N⌉ × dim floats × 2 per rank of N (value and the
///                             checkpoint's encoded copy; SGD keeps no state, row gradients
///                             are the batch's)
///     small_embeddings table: rows × dim floats × (4 + 2s), as a Linear's weight
///
/// for the training batch and each validation batch. A Linear's part names the config key
/// of its larger dimension; a layer output part the batch size key and the width's key.
/// The production config comes to 1.7 GB; 6 training steps and an evaluation of it peak
/// at 2.0 GB resident (the rest: the buffer pool's cache, the input pipeline, the runtime).
extension MemoryEstimate {
  /// `ranks`: the processes of a data-parallel run (`large_embeddings` tables are split over them).
  public init(recap config: RecapConfig, spec: MultiTaskRankingModel.Spec, ranks: Int = 1) {
    self.init()
    let states = config.optimizer.adam != nil ? 2 : 1
    var walk = RecapMemoryWalk(copies: 4 + 2 * states)
    // Sizes come from the config and schema: added with saturation, never trapping on overflow.
    let plus = MemoryEstimate.sum
    var input = [spec.continuousFeatures, spec.binaryFeatures, spec.userEmbeddingDim ?? 0, spec.userEngEmbeddingDim ?? 0,
                 spec.authorEmbeddingDim ?? 0].reduce(0, plus)
    if let p = config.model.positionDebiasConfig {
      walk.parameters(("model.position_debias_config.max_position", p.maxPosition), "position embedding",
                      elements: [plus(p.maxPosition, 2), p.numDims])
      input = plus(input, p.numDims)
    }
    for (i, t) in spec.largeEmbeddings.enumerated() {
      let rows = (t.numEmbeddings + max(ranks, 1) - 1) / max(ranks, 1)
      add(keys: [("model.large_embeddings.tables[\(i)].num_embeddings", t.numEmbeddings)],
          "large_embeddings table \(t.name)\(ranks > 1 ? " (this rank's \(rows) of its rows)" : "") (value and checkpoint copy)",
          elements: [rows, t.embeddingDim], copies: 2)
      input = plus(input, t.embeddingDim)
    }
    for (i, t) in spec.smallEmbeddings.enumerated() {
      walk.parameters(("model.small_embeddings.tables[\(i)].num_embeddings", t.numEmbeddings), "small_embeddings table \(t.name)",
                      elements: [t.numEmbeddings, t.embeddingDim])
      input = plus(input, t.embeddingDim)
    }
    let inputDim: RecapMemoryWalk.Dim = ("train_data.seg_dense_schema (model input width)", input)
    var towerInput = inputDim
    if let backbone = config.model.backbone {
      let out = walk.block(backbone, at: "model.backbone", input: inputDim)
      towerInput = config.model.multiTaskType == .sharePartial ? (out.key, plus(input, out.value)) : out
    }
    for (name, tower) in config.model.tasks {
      _ = walk.block(tower, at: "model.tasks[\"\(name)\"]", input: towerInput)
    }
    add(walk.estimate)
    let batches = [(key: "train_data.global_batch_size", size: config.trainData.globalBatchSize, training: true)]
      + config.validationData.map { name, d in (key: "validation_data[\"\(name)\"].global_batch_size", size: d.globalBatchSize, training: false) }
    for b in batches {
      add(keys: [(b.key, b.size), inputDim], "input batches of \(input) features", elements: [b.size, input], copies: b.training ? 12 : 6)
      for out in walk.outputs {
        add(keys: [(b.key, b.size), out], "\(b.training ? "training" : "evaluation") activations of a layer \(out.value) wide",
            elements: [b.size, out.value], copies: b.training ? 6 : 2)
      }
    }
  }
}

/// Walks the architecture configs as the model builder does, adding each layer's
/// parameters and recording each layer's output width (for the activations).
struct RecapMemoryWalk {
  typealias Dim = (key: String, value: Int)
  var estimate = MemoryEstimate()
  var outputs: [Dim] = []
  let copies: Int

  init(copies: Int) { self.copies = copies }

  mutating func parameters(_ key: Dim, _ what: String, elements: [Int]) {
    estimate.add(keys: [key], "\(what) (value, gradient, optimizer state, packed and checkpoint copies)", elements: elements, copies: copies)
  }

  /// `count` Linears in → out: their parameters under the larger dimension's key (and
  /// `extraKeys`); returns `output`.
  @discardableResult
  mutating func linear(_ input: Dim, _ output: Dim, bias: Bool = true, count: Dim? = nil) -> Dim {
    let key = output.value >= input.value ? output : input
    estimate.add(keys: [key] + (count.map { [$0] } ?? []),
                 "\(count.map { "\($0.value) × " } ?? "")a Linear \(input.value) → \(output.value) (value, gradient, optimizer state, packed and checkpoint copies)",
                 elements: [MemoryEstimate.sum(input.value, bias ? 1 : 0), output.value, count?.value ?? 1], copies: copies)
    outputs.append(output)
    return output
  }

  mutating func mlp(_ c: RecapMLPConfig, at path: String, input: Dim) -> Dim {
    var width = input
    for (j, size) in c.layerSizes.enumerated() { width = linear(width, ("\(path).layer_sizes[\(j)]", size)) }
    return width
  }

  /// One `TaskModel` (backbone or tower); returns its output width.
  mutating func block(_ c: RecapTaskModelConfig, at path: String, input: Dim) -> Dim {
    if let m = c.mlpConfig { return mlp(m, at: "\(path).mlp_config", input: input) }
    if let m = c.maskNetConfig {
      let p = "\(path).mask_net_config"
      var width = input, shared = 0
      var sharedKey = input
      for (i, b) in m.maskBlocks.enumerated() {
        let aggregation: Dim = b.aggregationSize.map { ("\(p).mask_blocks[\(i)].aggregation_size", $0) }
          ?? ("\(p).mask_blocks[\(i)].reduction_factor", Int(min(Double(input.value) * (b.reductionFactor ?? 0), Double(Int.max / 2))))
        let blockInput = m.useParallel ? input : width
        linear(input, aggregation)
        linear(aggregation, blockInput)
        width = linear(blockInput, ("\(p).mask_blocks[\(i)].output_size", b.outputSize))
        shared = MemoryEstimate.sum(shared, b.outputSize)
        sharedKey = width
      }
      let out: Dim = m.useParallel ? (sharedKey.key, shared) : width
      return m.mlp.map { mlp($0, at: "\(p).mlp", input: out) } ?? out
    }
    if let d = c.dcnConfig {
      let p = "\(path).dcn_config"
      let layers: Dim = ("\(p).poly_degree", d.polyDegree)
      if let r = d.projectionDim {
        linear(input, ("\(p).projection_dim", r), bias: false, count: layers)
        linear(("\(p).projection_dim", r), input, count: layers)
      } else {
        linear(input, input, count: layers)
      }
      var width = input
      if let m = d.parallelMLP {
        let out = mlp(m, at: "\(p).parallel_mlp", input: input)
        width = d.useParallel ? (out.key, MemoryEstimate.sum(input.value, out.value)) : out
      }
      return d.outputMLP.map { mlp($0, at: "\(p).output_mlp", input: width) } ?? width
    }
    return input  // dlrm_config: refused when the model spec is made
  }
}
