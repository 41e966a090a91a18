import Foundation

/// One recorded operation of the define-by-run tape. `inputs` are the nodes of the
/// operands that require grad (nil where an operand does not); `backward` maps the
/// gradient of the op's output to the gradients of its operands (nil = none).
///
/// Nodes get increasing ids as they are created, so every node's inputs have smaller
/// ids than the node: sorting reachable nodes by id descending is a reverse
/// topological order. Leaves (parameters, user tensors with `requiresGrad`) keep
/// their accumulated `grad` across backward calls until `zeroGrad`.
public final class GradNode {
  public let id: Int
  let inputs: [GradNode?]
  var backward: ((Tensor) throws -> [Tensor?])?
  public let isLeaf: Bool
  let name: String
  /// Accumulated gradient (leaves), or pending gradient during a backward walk.
  public internal(set) var grad: Tensor?
  /// Called with each gradient that reaches this leaf (fused optimizers, sparse tables).
  public var gradHook: ((Tensor) -> Void)?
  /// When true the leaf's gradient is delivered to `gradHook` only, never stored.
  public var discardsGrad = false

  private static let counterLock = NSLock()
  nonisolated(unsafe) private static var counter = 0
  private static func nextID() -> Int {
    counterLock.lock(); defer { counterLock.unlock() }
    counter += 1
    return counter
  }

  init(name: String, inputs: [GradNode?], backward: @escaping (Tensor) throws -> [Tensor?]) {
    self.id = GradNode.nextID()
    self.inputs = inputs
    self.backward = backward
    self.isLeaf = false
    self.name = name
  }

  init(leafNamed name: String) {
    self.id = GradNode.nextID()
    self.inputs = []
    self.backward = nil
    self.isLeaf = true
    self.name = name
  }

  public func zeroGrad() { grad = nil }

  func accumulate(_ g: Tensor) {
    if let existing = grad {
      grad = existing.adding(g)
    } else {
      grad = g
    }
  }
}
