import Foundation
import TMLNN
import TMLTensor
import XCTest

/// A tower with its own parameter and buffer plus two children, to check PyTorch's order:
/// own parameters, own buffers, then each child's entries recursively.
private final class Tower: Module {
  var isTraining = true
  let scale = Parameter(Tensor.ones([4]))
  let calibration = Buffer(Tensor.full(0.5, shape: [2]))
  let fc: Linear
  let bn = BatchNorm1d(4)

  init(seed: UInt64) {
    var rng = RandomGenerator(seed: seed)
    fc = Linear(3, 4, rng: &rng)
  }

  var parameters: [(String, Parameter)] { [("scale", scale)] }
  var buffers: [(String, Buffer)] { [("calibration", calibration)] }
  var children: [(String, any Module)] { [("fc", fc), ("bn", bn)] }
}

private final class Net: Module {
  var isTraining = true
  let temperature = Parameter(Tensor(scalar: 1))
  let tower: Tower
  let head: Linear

  init(seed: UInt64 = 1) {
    tower = Tower(seed: seed)
    var rng = RandomGenerator(seed: seed &+ 100)
    head = Linear(4, 1, rng: &rng)
  }

  var parameters: [(String, Parameter)] { [("temperature", temperature)] }
  var children: [(String, any Module)] { [("tower", tower), ("head", head)] }
}

/// A wrapper whose only child is named `model`, like the original's `ModelAndLoss`.
private final class ModelAndLoss: Module {
  var isTraining = true
  let model = Linear(2, 3)
  var children: [(String, any Module)] { [("model", model)] }
}

final class StateDictTests: XCTestCase {
  private let pytorchOrder = [
    "temperature",
    "tower.scale", "tower.calibration",
    "tower.fc.weight", "tower.fc.bias",
    "tower.bn.weight", "tower.bn.bias", "tower.bn.running_mean", "tower.bn.running_var", "tower.bn.num_batches_tracked",
    "head.weight", "head.bias",
  ]

  func testNamesOfNestedModulesFollowPyTorchOrder() {
    let net = Net()
    XCTAssertEqual(net.stateDict().names, pytorchOrder)
    XCTAssertEqual(net.namedParameters().map(\.0),
                   ["temperature", "tower.scale", "tower.fc.weight", "tower.fc.bias", "tower.bn.weight", "tower.bn.bias",
                    "head.weight", "head.bias"])
    XCTAssertEqual(net.namedBuffers().map(\.0),
                   ["tower.calibration", "tower.bn.running_mean", "tower.bn.running_var", "tower.bn.num_batches_tracked"])
    XCTAssertEqual(net.namedModules().map(\.0), ["", "tower", "tower.fc", "tower.bn", "head"])
  }

  func testStateDictRecordsTheSavedDtypeOfEachEntry() {
    let d = Net().stateDict()
    XCTAssertEqual(d["tower.bn.num_batches_tracked"]?.dtype, .i64)
    XCTAssertEqual(d["tower.bn.running_mean"]?.dtype, .f32)
    XCTAssertEqual(d["head.weight"]?.dtype, .f32)
  }

  func testStateDictIsASnapshotThatLaterUpdatesDoNotChange() throws {
    let net = Net()
    let before = net.stateDict()
    let saved = try XCTUnwrap(before["head.weight"]).tensor.scalars
    try net.head.weight.assign(Tensor.full(9, shape: [1, 4]))
    XCTAssertEqual(try XCTUnwrap(before["head.weight"]).tensor.scalars, saved)
    XCTAssertFalse(try XCTUnwrap(before["head.weight"]).tensor.requiresGrad)
  }

  func testLoadingCopiesEveryValueAcrossModels() throws {
    let source = Net(seed: 1), target = Net(seed: 2)
    source.tower.bn.runningMean.value = Tensor([1, 2, 3, 4])
    source.tower.bn.numBatchesTracked.value = Tensor(scalar: 5)
    let report = try target.loadStateDict(source.stateDict())
    XCTAssertTrue(report.isClean, report.description)
    for (name, entry) in source.stateDict().entries {
      assertIdentical(try XCTUnwrap(target.stateDict()[name]).tensor, entry.tensor, name)
    }
  }

  func testLoadingKeepsTheParameterObjectsAndTheirAutogradLeaves() throws {
    let source = Net(seed: 1), target = Net(seed: 2)
    let weight = target.head.weight
    try target.loadStateDict(source.stateDict())
    XCTAssertTrue(target.head.weight === weight)
    XCTAssertTrue(target.head.weight.value.requiresGrad)
    let y = try target.head(Tensor.ones([2, 4]))
    try y.sum().backward()
    XCTAssertNotNil(target.head.weight.grad)
  }

  func testStrictLoadingListsMissingUnexpectedAndMismatchedKeysInOneError() throws {
    let net = Net()
    var d = net.stateDict()
    d["tower.fc.bias"] = nil                                        // missing
    d["tower.extra"] = .init(Tensor.zeros([7]))                     // unexpected
    d["head.weight"] = .init(Tensor.zeros([2, 5]))                  // wrong shape (model has [1, 4])
    let message = errorMessage("strict load") { try net.loadStateDict(d, origin: "test.safetensors") }
    assertMentions(message, ["test.safetensors", "missing", "tower.fc.bias", "unexpected", "tower.extra",
                             "head.weight", "[1, 4]", "[2, 5]", "strict: false"])
  }

  func testFailedStrictLoadLeavesTheModelUnchanged() throws {
    let net = Net(seed: 1)
    let before = net.stateDict()
    var d = Net(seed: 2).stateDict()
    d["tower.extra"] = .init(Tensor.zeros([1]))
    XCTAssertThrowsError(try net.loadStateDict(d))
    for (name, entry) in before.entries {
      assertIdentical(try XCTUnwrap(net.stateDict()[name]).tensor, entry.tensor, "\(name) after a failed load")
    }
  }

  func testKeysPrefixedWithModelLoad() throws {
    let source = Net(seed: 1), target = Net(seed: 2)
    var d = StateDict()
    for (name, e) in source.stateDict().entries { d["model." + name] = e }
    let report = try target.loadStateDict(d)
    XCTAssertTrue(report.isClean, report.description)
    assertIdentical(target.head.weight.value, source.head.weight.value, "head.weight")
    assertIdentical(target.tower.fc.bias!.value, source.tower.fc.bias!.value, "tower.fc.bias")
  }

  func testAModelWhoseOnlyChildIsNamedModelLoadsItsOwnStateDict() throws {
    let source = ModelAndLoss(), target = ModelAndLoss()
    try source.model.weight.assign(Tensor.full(2, shape: [3, 2]))
    XCTAssertEqual(source.stateDict().names, ["model.weight", "model.bias"])
    let report = try target.loadStateDict(source.stateDict())
    XCTAssertTrue(report.isClean, report.description)
    assertIdentical(target.model.weight.value, source.model.weight.value, "model.weight")
  }

  func testNonStrictLoadingReturnsTheReportAndLoadsTheMatchingKeys() throws {
    let source = Net(seed: 1), target = Net(seed: 2)
    let untouchedBias = target.tower.fc.bias!.value.scalars
    let untouchedHead = target.head.weight.value.scalars
    var d = source.stateDict()
    d["tower.fc.bias"] = nil
    d["tower.extra"] = .init(Tensor.zeros([7]))
    d["head.weight"] = .init(Tensor.zeros([2, 5]))
    let report = try target.loadStateDict(d, strict: false)
    XCTAssertEqual(report.missing, ["tower.fc.bias"])
    XCTAssertEqual(report.unexpected, ["tower.extra"])
    XCTAssertEqual(report.mismatched.map(\.name), ["head.weight"])
    XCTAssertEqual(report.mismatched.first?.expected, [1, 4])
    XCTAssertEqual(report.mismatched.first?.found, [2, 5])
    XCTAssertFalse(report.isClean)
    // Matching keys were loaded; the others kept their values.
    assertIdentical(target.tower.fc.weight.value, source.tower.fc.weight.value, "tower.fc.weight")
    assertIdentical(target.head.bias!.value, source.head.bias!.value, "head.bias")
    XCTAssertEqual(target.tower.fc.bias!.value.scalars, untouchedBias)
    XCTAssertEqual(target.head.weight.value.scalars, untouchedHead)
  }

  func testNumBatchesTrackedIsSavedAsInt64AndRoundTripsThroughSafetensors() throws {
    let net = Net(seed: 1)
    net.tower.bn.numBatchesTracked.value = Tensor(scalar: 123_456)
    var w = SafetensorsWriter(metadata: ["format": "pt"])
    w.add(net.stateDict())
    let file = try SafetensorsFile(data: w.encoded(), source: "net")
    XCTAssertEqual(file.names, pytorchOrder)
    XCTAssertEqual(file.entries["tower.bn.num_batches_tracked"]?.dtype, .i64)
    XCTAssertEqual(file.entries["tower.bn.num_batches_tracked"]?.shape, [])
    XCTAssertEqual(try file.indexTensor("tower.bn.num_batches_tracked").values, [123_456])
    for name in pytorchOrder where !name.hasSuffix("num_batches_tracked") {
      XCTAssertEqual(file.entries[name]?.dtype, .f32, name)
    }
    let restored = Net(seed: 2)
    try restored.loadStateDict(try file.stateDict(), origin: "net")
    XCTAssertEqual(restored.tower.bn.numBatchesTracked.value.item, 123_456)
    XCTAssertEqual(restored.tower.bn.numBatchesTracked.value.shape, [])
    assertIdentical(restored.tower.fc.weight.value, net.tower.fc.weight.value, "tower.fc.weight")
  }

  func testTrainAndEvalReachEveryModuleInTheTree() {
    let net = Net()
    net.eval()
    XCTAssertTrue(net.namedModules().allSatisfy { !$0.1.isTraining })
    net.train()
    XCTAssertTrue(net.namedModules().allSatisfy { $0.1.isTraining })
  }

  func testZeroGradClearsEveryParameterGradient() throws {
    let net = Net()
    net.tower.bn.eval()
    let h = try net.tower.bn(try net.tower.fc(Tensor.ones([2, 3])))
    try (try net.head(h) * net.temperature.value).sum().backward()
    XCTAssertNotNil(net.head.weight.grad)
    XCTAssertNotNil(net.tower.fc.weight.grad)
    XCTAssertNotNil(net.temperature.grad)
    net.zeroGrad()
    XCTAssertTrue(net.namedParameters().allSatisfy { $0.1.grad == nil })
  }

  func testParameterAssignRejectsAWrongShape() {
    let p = Parameter(Tensor.zeros([2, 3]))
    let message = errorMessage("assign") { try p.assign(Tensor.zeros([3, 2])) }
    assertMentions(message, ["[3, 2]", "[2, 3]"])
  }
}
