import Foundation

/// Which Heavy Ranker the demo trains: with the three TwHIN embedding inputs, or the same
/// network without them (the ablation of the quality table).
public enum RankerVariant: String, CaseIterable, Sendable {
  case withTwHIN = "ranker_twhin"
  case withoutTwHIN = "ranker_no_twhin"

  public var title: String { self == .withTwHIN ? "Heavy Ranker + TwHIN" : "Heavy Ranker, no TwHIN" }
}

/// The demo's ranker as a YAML config in the original's schema (loaded with `RecapRun`),
/// shaped like `configs/recap/small.yaml` — DoubleNormLog featurization, a parallel
/// MaskNet backbone (2 blocks of 64, MLP [64]), one 32-16-1 tower with batch norm per
/// head — with all ten heads, Adam, and a linear warm-up. Paths are absolute, so the
/// file works from any directory:
///
///     tml recap eval --config runs/demo/ranker_twhin.yaml --checkpoint runs/demo/ranker_twhin
struct RankerConfigFile {
  var variant: RankerVariant
  var outDirectory: URL
  var steps: Int
  var batchSize: Int
  var learningRate: Double
  /// Overrides for a ranker on other data (the MovieLens examples): the label heads, the
  /// `renamed_features` lines, the config's name (save_dir and file), its title line and the
  /// folder of `train/` and `test/` under `outDirectory`. Defaults: the demo's.
  var heads = EngagementHead.allCases.map(\.task)
  var renamedFeatures: [String]? = nil
  var name: String? = nil
  var title: String? = nil
  var dataDirectory = "data"

  static func quote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  var yaml: String {
    let out = outDirectory.standardizedFileURL.path
    let name = self.name ?? variant.rawValue
    var renamed = ["continuous: \(DemoSchema.continuous)", "binary: \(DemoSchema.binary)"]
    if variant == .withTwHIN {
      renamed += ["user_embedding: \(DemoSchema.userEmbedding)", "user_eng_embedding: \(DemoSchema.userEngEmbedding)",
                  "author_embedding: \(DemoSchema.authorEmbedding)"]
    }
    renamed += DemoSchema.meta.map { "\($0.input): \($0.feature)" }
    if let renamedFeatures { renamed = renamedFeatures }
    var lines = [
      title ?? "# Written by `tml demo`: the For You demo's Heavy Ranker (\(variant.title)).",
      "training:",
      "  save_dir: \(RankerConfigFile.quote(out + "/" + name))",
      "  num_train_steps: \(steps)",
      "  checkpoint_every_n: \(steps)",
      "  checkpoint_max_to_keep: 1",
      "  train_log_every_n: \(max(steps / 50, 1))",
      "  num_eval_steps: -1",
      "  eval_log_every_n: 100",
      "model:",
      "  multi_task_type: share_all",
      "  featurization_config:",
      "    double_norm_log_config:",
      "      batch_norm_config: {affine: true, momentum: 0.01}",
      "      clip_magnitude: 5.0",
      "      layer_norm_config: {axis: -1, center: true, epsilon: 0.0, scale: true}",
      "    feature_names_to_concat: [binary]",
      "  backbone:",
      "    mask_net_config:",
      "      use_parallel: true",
      "      mask_blocks:",
      "        - {aggregation_size: 64, input_layer_norm: false, output_size: 64}",
      "        - {aggregation_size: 64, input_layer_norm: false, output_size: 64}",
      "      mlp: {layer_sizes: [64], final_layer_activation: true}",
      "  tasks:",
    ]
    for (i, h) in heads.enumerated() {
      lines.append(i == 0 ? "    \(h): &tower" : "    \(h): *tower")
      if i == 0 {
        lines += ["      mlp_config:", "        layer_sizes: [32, 16, 1]", "        batch_norm: {affine: false, momentum: 0.1}"]
      }
    }
    lines += [
      "train_data:",
      "  inputs: \(RankerConfigFile.quote(out + "/\(dataDirectory)/train/part-*.tfrecord.gz"))",
      "  global_batch_size: \(batchSize)",
      "  examples_shuffle_buffer_size: 8192",
      "  seg_dense_schema: &schema",
      "    schema_path: segdense.json",
      "    renamed_features:",
    ]
    lines += renamed.map { "      " + $0 }
    lines.append("  tasks: &tasks")
    lines += heads.map { "    \($0): {}" }
    lines += [
      "validation_data:",
      "  test:",
      "    inputs: \(RankerConfigFile.quote(out + "/\(dataDirectory)/test/part-*.tfrecord.gz"))",
      "    global_batch_size: 2048",
      "    seg_dense_schema: *schema",
      "    tasks: *tasks",
      "optimizer:",
      "  adam: {beta_1: 0.9, beta_2: 0.999, epsilon: 1.0e-07}",
      "  multi_task_learning_rates:",
      "    backbone_learning_rate:",
      "      linear_ramp_to_constant: {learning_rate: \(learningRate), num_ramp_steps: \(max(steps / 20, 1))}",
      "    tower_learning_rates:",
    ]
    for (i, h) in heads.enumerated() {
      lines.append(i == 0
        ? "      \(h): &tower_lr {linear_ramp_to_constant: {learning_rate: \(learningRate), num_ramp_steps: \(max(steps / 20, 1))}}"
        : "      \(h): *tower_lr")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes `<out>/<variant>.yaml` and returns its path.
  func write() throws -> String {
    let url = outDirectory.appendingPathComponent("\(name ?? variant.rawValue).yaml")
    try yaml.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }
}
