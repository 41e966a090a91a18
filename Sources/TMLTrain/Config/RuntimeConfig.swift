import Foundation

/// `runtime:` — process-level switches (the original's core `RuntimeConfig`).
/// Accepted for config compatibility; on CPU `enable_tensorfloat32` and `enable_amp`
/// have no effect.
public struct RuntimeConfig: Codable, Equatable, Sendable {
  public var wandb: WandbConfig?
  public var enableTensorfloat32: Bool
  public var enableAmp: Bool

  enum CodingKeys: String, CodingKey, CaseIterable {
    case wandb, enableTensorfloat32 = "enable_tensorfloat32", enableAmp = "enable_amp"
  }

  public init(wandb: WandbConfig? = nil, enableTensorfloat32: Bool = false, enableAmp: Bool = false) {
    self.wandb = wandb
    self.enableTensorfloat32 = enableTensorfloat32
    self.enableAmp = enableAmp
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    wandb = try c.decodeIfPresent(.wandb)
    enableTensorfloat32 = try c.decode(.enableTensorfloat32, default: false)
    enableAmp = try c.decode(.enableAmp, default: false)
  }
}

/// `runtime.wandb:` — Weights & Biases settings (the original's `WandbConfig`); kept so
/// the original's configs load; SwiftTML logs to TensorBoard files and `metrics.jsonl`.
public struct WandbConfig: Codable, Equatable, Sendable {
  /// W&B host; `nil` is W&B's own default (the original defaulted to Twitter's internal host).
  public var host: String?
  public var keyPath: String
  public var name: String?
  public var entity: String?
  public var project: String?
  public var tags: [String]
  public var notes: String?
  public var metadata: ConfigMap<ConfigValue>?

  enum CodingKeys: String, CodingKey, CaseIterable {
    case host, keyPath = "key_path", name, entity, project, tags, notes, metadata
  }

  public init(host: String? = nil, keyPath: String, name: String? = nil, entity: String? = nil,
              project: String? = nil, tags: [String] = [], notes: String? = nil, metadata: ConfigMap<ConfigValue>? = nil) {
    self.host = host
    self.keyPath = keyPath
    self.name = name
    self.entity = entity
    self.project = project
    self.tags = tags
    self.notes = notes
    self.metadata = metadata
  }

  public init(from decoder: any Decoder) throws {
    let c = try StrictContainer(decoder, keyedBy: CodingKeys.self)
    host = try c.decodeIfPresent(.host)
    keyPath = try c.decode(.keyPath)
    name = try c.decodeIfPresent(.name)
    entity = try c.decodeIfPresent(.entity)
    project = try c.decodeIfPresent(.project)
    tags = try c.decode(.tags, default: [])
    notes = try c.decodeIfPresent(.notes)
    metadata = try c.decodeIfPresent(.metadata)
  }
}
