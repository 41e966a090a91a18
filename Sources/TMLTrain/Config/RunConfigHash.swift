import Foundation

/// The hash a run saves with its checkpoints, to warn when a resume uses another setup:
/// FNV-1a 64 of the resolved config's YAML (every default filled in) and the seed.
/// The run's length — `training.num_train_steps` and `training.num_epochs`, what
/// `--steps` / `--epochs` override — is left out, so extending a run is not a change;
/// so is `training.save_dir`, where the checkpoint was found (a moved run is the same run).
///
///     let hash = RunConfigHash.of(config, training: \.training, seed: 0)
public enum RunConfigHash {
  public static func of<C: Encodable>(_ config: C, training: WritableKeyPath<C, TrainingConfig>, seed: UInt64) -> String {
    var neutral = config
    neutral[keyPath: training].numTrainSteps = 0
    neutral[keyPath: training].numEpochs = 0
    neutral[keyPath: training].saveDir = ""
    let text = ((try? YAMLLoader.yaml(of: neutral)) ?? "") + "\nseed: \(seed)\n"
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    return String(h, radix: 16)
  }

  /// The warning of a resume whose checkpoint was written with another config or seed.
  public static func changedWarning(_ checkpoint: URL) -> String {
    "resuming from \(checkpoint.path), which was written with a different config or --seed (not only num_train_steps / num_epochs); the model shapes match, so training continues"
  }
}
