import TMLNN
import TMLTensor

/// The ranker's parameter groups (the original's multi-task learning rates): a parameter
/// belongs to task t when its name contains `.<t with . → __>.` (its tower and affine
/// map); every other parameter (preprocessor, embedding norms, backbone) belongs to the
/// backbone group. With one schedule for all (`single_task_learning_rate`) there is one
/// group, `all`.
public enum RecapOptimizer {
  public static func groups(for model: MultiTaskRankingModel, towerSchedules: [String: LearningRateSchedule],
                            backbone: LearningRateSchedule) throws -> [ParameterGroup] {
    for task in model.taskNames where towerSchedules[task] == nil {
      throw TensorError("optimizer.multi_task_learning_rates.tower_learning_rates has no entry for task \(task)")
    }
    for task in towerSchedules.keys where !model.taskNames.contains(task) {
      throw TensorError("optimizer.multi_task_learning_rates.tower_learning_rates names \(task), which is not a model task")
    }
    var taskParams: [String: [(String, Parameter)]] = [:]
    var backboneParams: [(String, Parameter)] = []
    for (name, p) in model.namedParameters() {
      if let task = model.taskNames.first(where: { name.contains(".\(MultiTaskRankingModel.sanitize($0)).") }) {
        taskParams[task, default: []].append((name, p))
      } else {
        backboneParams.append((name, p))
      }
    }
    var groups = [ParameterGroup(name: "backbone", parameters: backboneParams, schedule: backbone)]
    for task in model.taskNames {
      groups.append(ParameterGroup(name: task, parameters: taskParams[task] ?? [], schedule: towerSchedules[task]!))
    }
    return groups
  }

  /// Adam over the groups (the ranker's optimizer), PyTorch semantics.
  public static func adam(_ groups: [ParameterGroup], beta1: Float, beta2: Float, epsilon: Float) throws -> Adam {
    try Adam(groups: groups, beta1: beta1, beta2: beta2, eps: epsilon)
  }
}
