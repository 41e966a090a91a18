import TMLTrain

/// The memory a TwHIN run needs, estimated from its config before any table is allocated
/// (`TwHINRun.init` checks it against `PhysicalMemory`):
///
///     each table N × D:     N·D floats × 2 (values, checkpoint's encoded copy; + 2 with
///                           `pretrained`: the file's bytes and the decoded tensor)
///     its optimizer state:  (rowwise_adagrad N, adagrad N·D, adam 2·N·D floats) × 2
///     translations:         relations × D floats × 6
///     a training step:      B·D floats × 4 (gathered rows, their gradients) and, per relation,
///                           K = S + G negatives per side: 3·K·D floats of candidate rows and
///                           gradients + 24 bytes of indices each
///     an evaluation batch:  B·K·2 logits × 4, per relation K·D candidate rows × 2
///
/// with B the batch size, S `in_batch_negatives`, G `global_negatives` of `train_data`
/// (`validation_data` for evaluation). Each part names the config keys that size it.
extension MemoryEstimate {
  public init(twhin config: TwHINConfig) {
    self.init()
    let tables = config.model.embeddings.tables
    let relations = config.model.relations.count
    for t in tables {
      let path = "model.embeddings.tables[\(t.name)]"
      let rows = (key: "\(path).num_embeddings", value: t.numEmbeddings), dim = (key: "\(path).embedding_dim", value: t.embeddingDim)
      let key = rows.value >= dim.value ? rows : dim
      add(keys: [key], "table \(t.name) (\(t.numEmbeddings) × \(t.embeddingDim) floats, with its checkpoint copy\(t.pretrained == nil ? "" : " and the pretrained file"))",
          elements: [t.numEmbeddings, t.embeddingDim], copies: t.pretrained == nil ? 2 : 4)
      let o = t.optimizer
      let stateElements = o.rowwiseAdagrad != nil ? [t.numEmbeddings] : o.adagrad != nil ? [t.numEmbeddings, t.embeddingDim]
        : o.adam != nil ? [t.numEmbeddings, t.embeddingDim, 2] : [0]
      add(keys: [key], "optimizer state of table \(t.name), with its checkpoint copy", elements: stateElements, copies: 2)
    }
    let dim = (key: "model.embeddings.tables[\(tables.first?.name ?? "")].embedding_dim", value: config.embeddingDim)
    add(keys: [("model.relations", relations), dim], "translations", elements: [relations, dim.value], copies: 6)
    for (section, d, training) in [("train_data", config.trainData, true), ("validation_data", config.validationData, false)] {
      let batch = (key: "\(section).per_replica_batch_size", value: d.perReplicaBatchSize)
      let inBatch = (key: "\(section).in_batch_negatives", value: d.inBatchNegatives)
      let global = (key: "\(section).global_negatives", value: d.globalNegatives)
      let present = min(relations, max(d.perReplicaBatchSize, 1))
      for negatives in [inBatch, global] {
        add(keys: [negatives], "\(section == "train_data" ? "training" : "evaluation") negatives' candidate rows, gradients and indices for \(present) relations",
            elements: [negatives.value, present, MemoryEstimate.sum(MemoryEstimate.product([3, dim.value]), 6)], copies: 4)
      }
      if training {
        add(keys: [batch, dim], "a training batch's gathered rows and their gradients", elements: [batch.value, dim.value], copies: 4)
      } else {
        let k = MemoryEstimate.sum(inBatch.value, global.value)
        add(keys: [batch, inBatch, global], "an evaluation batch's logits (batch × negatives × 2 sides)", elements: [batch.value, k, 2], copies: 4)
      }
    }
  }
}
