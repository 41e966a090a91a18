import Foundation
import TMLNN
import TMLTensor
import TMLTrain
import XCTest

/// A logistic regression whose weight can be poisoned at a chosen batch: `poisonAfterLoss`
/// writes NaN into `fc.weight` after that batch's loss is computed (what a diverging
/// optimizer step does); `poisonBeforeLoss` before it.
private final class PoisonedTask: TrainingTask {
  final class Model: Module {
    var isTraining = true
    let fc = Linear(2, 1)
    var children: [(String, any Module)] { [("fc", fc)] }
  }
  let model = Model()
  var module: any Module { model }
  var poisonAfterLoss: Int? = nil
  var poisonBeforeLoss: Int? = nil

  func loss(_ batch: Int) throws -> (total: Tensor, logs: [String: Double], examples: Int) {
    if batch == poisonBeforeLoss { poison() }
    let x = try Tensor(shape: [4, 2], scalars: [1, 0, 0, 1, 1, 1, -1, 0.5])
    let loss = try Tensor.bceWithLogits(try model.fc(x), labels: try Tensor(shape: [4, 1], scalars: [1, 0, 1, 0]))
    if batch == poisonAfterLoss { poison() }
    return (loss, [:], 4)
  }

  private func poison() { model.fc.weight.value.withUnsafeMutableBufferPointer { $0[1] = .nan } }
}

/// Batch k is the number k, forever.
private struct Counter: BatchSource {
  var position = 0
  mutating func next() throws -> Int? { defer { position += 1 }; return position }
  mutating func skip(_ batches: Int) throws { position += batches }
  var waitSeconds: Double { 0 }
}

final class TrainerNonFiniteTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-nan-\(UUID().uuidString)")
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  private func train(_ task: PoisonedTask, logEvery: Int, checkpointEvery: Int? = nil) throws -> String {
    let opt = try SGD(groups: [ParameterGroup(name: "all", parameters: task.model.namedParameters(), schedule: .constant(0.1))])
    let trainer = Trainer(task: task, optimizer: opt, options: TrainingOptions(
      saveDir: dir, numTrainSteps: 20, checkpointEveryN: checkpointEvery, trainLogEveryN: logEvery))
    var source = Counter()
    do {
      try trainer.run(&source)
    } catch let e as TrainError {
      return e.message
    }
    XCTFail("training with a NaN weight finished without an error")
    return ""
  }

  func testAWeightThatBecomesNaNStopsTrainingAtTheNextLogStepNamingItAndTheStep() throws {
    let task = PoisonedTask()
    task.poisonAfterLoss = 5  // batch 5 is step 6; the loss stays finite until step 7's batch
    let message = try train(task, logEvery: 6)
    for part in ["step 6", "parameter fc.weight", "nan", "[0, 1]"] {
      XCTAssertTrue(message.contains(part), "\(part) missing from: \(message)")
    }
    let log = (try? String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8)) ?? ""
    XCTAssertFalse(log.contains("\"step\":6"), "the diverged step is not logged as trained: \(log)")
  }

  func testANaNLossCausedByANaNWeightNamesTheWeight() throws {
    let task = PoisonedTask()
    task.poisonBeforeLoss = 3
    let message = try train(task, logEvery: 100)
    for part in ["step 3", "non-finite", "because parameter fc.weight holds nan at [0, 1]"] {
      XCTAssertTrue(message.contains(part), "\(part) missing from: \(message)")
    }
  }

  func testNoCheckpointIsSavedWithANaNWeight() throws {
    let task = PoisonedTask()
    task.poisonAfterLoss = 1
    let message = try train(task, logEvery: 100, checkpointEvery: 2)
    XCTAssertTrue(message.contains("step 2: parameter fc.weight holds nan"), message)
    XCTAssertEqual(CheckpointManager(saveDir: dir).steps().map(\.step), [], "no checkpoint holds the NaN weight")
  }
}
