/// Leaf creation, gradients, and the hook every differentiable op uses to
/// record itself on the tape.
extension Tensor {
  /// True when operations on this tensor are recorded for `backward()`.
  public var requiresGrad: Bool { node != nil }

  /// This tensor as a new autograd leaf whose gradient accumulates in `grad`.
  public func requiringGrad(_ name: String = "leaf") -> Tensor {
    var t = self
    t.node = GradNode(leafNamed: name)
    return t
  }

  /// The same values without autograd history (like `tensor.detach()`).
  public func detached() -> Tensor {
    var t = self
    t.node = nil
    return t
  }

  /// The gradient accumulated in this leaf by `backward()` calls (nil before any).
  public var grad: Tensor? { node?.grad }

  /// Replaces the accumulated gradient of this leaf (an all-reduced gradient in
  /// data-parallel training); nothing for a tensor that is not a leaf.
  public func setGrad(_ g: Tensor) {
    guard let node, node.isLeaf else { return }
    node.grad = g
  }

  /// Clears the accumulated gradient of this leaf (PyTorch `zero_grad(set_to_none=True)`).
  public func zeroGrad() { node?.zeroGrad() }

  /// Attaches a new op node to `output` when grad mode is on and an input requires grad.
  @inline(__always)
  static func record(
    _ output: inout Tensor, _ name: String, _ inputs: [Tensor],
    _ backward: @escaping (Tensor) throws -> [Tensor?]
  ) {
    if OpProfiler.isEnabled { OpProfiler.lap("fwd " + name) }
    guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return }
    output.node = GradNode(name: name, inputs: inputs.map(\.node), backward: backward)
  }
}
