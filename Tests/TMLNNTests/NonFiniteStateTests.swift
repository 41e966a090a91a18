import Foundation
import TMLNN
import TMLTensor
import XCTest

/// A Linear followed by a BatchNorm (parameters and buffers).
private final class Block: Module {
  var isTraining = true
  let fc = Linear(3, 2)
  let bn = BatchNorm1d(2)
  var children: [(String, any Module)] { [("fc", fc), ("bn", bn)] }
}

/// NaN or ±Inf in loaded or trained state is an error naming the entry, never loaded.
final class NonFiniteStateTests: XCTestCase {
  private func state(of model: Block, setting name: String, at index: Int, to value: Float) -> StateDict {
    var d = model.stateDict()
    var t = d[name]!.tensor
    t.withUnsafeMutableBufferPointer { $0[index] = value }
    d[name] = .init(t, dtype: d[name]!.dtype)
    return d
  }

  func testLoadingANaNWeightThrowsNamingTheParameterTheElementAndTheFileAndLoadsNothing() throws {
    let source = Block(), target = Block()
    var rng = RandomGenerator(seed: 9)
    try source.fc.weight.assign(Tensor.uniform([2, 3], low: -1, high: 1, using: &rng))
    let before = target.fc.weight.value.scalars
    let message = errorMessage("NaN weight") {
      try target.loadStateDict(state(of: source, setting: "fc.weight", at: 5, to: .nan), origin: "/runs/a/model.safetensors")
    }
    assertMentions(message, ["/runs/a/model.safetensors", "parameter fc.weight", "nan", "[1, 2]"])
    XCTAssertEqual(target.fc.weight.value.scalars, before, "nothing was loaded")
  }

  func testLoadingAnInfiniteParameterThrows() {
    let message = errorMessage("infinite bias") {
      try Block().loadStateDict(state(of: Block(), setting: "fc.bias", at: 0, to: -.infinity), strict: false)
    }
    assertMentions(message, ["parameter fc.bias", "-inf"])
  }

  func testABufferMayHoldInfinityButNotNaN() throws {
    let model = Block()
    try model.loadStateDict(state(of: Block(), setting: "bn.running_var", at: 1, to: .infinity))
    XCTAssertEqual(model.bn.runningVar.value.scalars, [1, .infinity])
    let message = errorMessage("NaN buffer") { try model.loadStateDict(state(of: Block(), setting: "bn.running_mean", at: 0, to: .nan)) }
    assertMentions(message, ["buffer bn.running_mean", "nan"])
  }

  func testACheckpointWithANaNWeightIsRefusedNamingItsModelFile() throws {
    let dir = try makeTemporaryDirectory("nan-checkpoint")
    defer { try? FileManager.default.removeItem(at: dir) }
    let manager = CheckpointManager(saveDir: dir)
    try manager.save(step: 3, model: state(of: Block(), setting: "fc.weight", at: 0, to: .nan), optimizer: StateDict(), state: .init(step: 3))
    let ckpt = try XCTUnwrap(try manager.loadLatest())
    let file = ckpt.directory.appendingPathComponent("model.safetensors").path
    let message = errorMessage("NaN checkpoint") { try Block().loadStateDict(ckpt.model, origin: file) }
    assertMentions(message, [file, "parameter fc.weight", "nan", "[0, 0]"])
  }

  func testLoadingOptimizerStateHoldingNaNThrowsNamingTheEntry() throws {
    let model = Block()
    let opt = try Adam(groups: [ParameterGroup(name: "all", parameters: model.namedParameters(), schedule: .constant(0.1))])
    try setGradient(model.fc.weight, Tensor.ones([2, 3]))
    try opt.step()
    var d = opt.stateDict()
    var m = d["fc.weight.exp_avg_sq"]!.tensor
    m.withUnsafeMutableBufferPointer { $0[4] = .nan }
    d["fc.weight.exp_avg_sq"] = .init(m)
    let message = errorMessage("NaN moment") { try opt.loadStateDict(d, origin: "/runs/a/optimizer.safetensors") }
    assertMentions(message, ["/runs/a/optimizer.safetensors", "optimizer state fc.weight.exp_avg_sq", "nan", "[1, 1]"])
  }

  func testFirstNonFiniteStateNamesTheFirstBadParameterInStateDictOrder() throws {
    let model = Block()
    XCTAssertNil(model.firstNonFiniteState())
    model.bn.weight?.value.withUnsafeMutableBufferPointer { $0[1] = .infinity }
    model.fc.bias?.value.withUnsafeMutableBufferPointer { $0[0] = .nan }
    let bad = try XCTUnwrap(model.firstNonFiniteState())
    XCTAssertEqual(bad.name, "fc.bias")
    XCTAssertEqual(bad.position, [0])
    XCTAssertEqual("\(bad)", "parameter fc.bias holds nan at [0] (flat index 0 of [2])")
  }
}
