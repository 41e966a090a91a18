/// `pretrained:` of an embedding table (the original's `EmbeddingSnapshot`, a
/// torchsnapshot): the table `emb_name` of the snapshot at `embedding_snapshot_uri`.
/// SwiftTML reads a safetensors file holding a tensor `emb_name` (or `weight`) of shape
/// [num_embeddings, embedding_dim], e.g. one written by `tml twhin export`. Shared by the
/// ranker's `large_embeddings` tables and TwHIN's tables.
public struct EmbeddingSnapshotConfig: Codable, Equatable, Sendable {
  public var embName: String
  public var embeddingSnapshotURI: String

  enum CodingKeys: String, CodingKey, CaseIterable { case embName = "emb_name", embeddingSnapshotURI = "embedding_snapshot_uri" }

  public init(embName: String, embeddingSnapshotURI: String) {
    self.embName = embName
    self.embeddingSnapshotURI = embeddingSnapshotURI
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    embName = try c.decode(.embName)
    embeddingSnapshotURI = try c.decode(.embeddingSnapshotURI)
  }
}
