/// Reverse-mode differentiation: walks the recorded graph from `root` in reverse
/// topological order, calling each node's backward once with its summed gradient,
/// and accumulates into leaves (`tensor.grad`). Interior nodes are freed as they are
/// used, as PyTorch does without `retain_graph`.
extension Tensor {
  /// Backpropagates from this tensor. A non-scalar tensor needs an explicit
  /// `gradient` of its own shape (the vector in the vector-Jacobian product).
  ///
  /// `onLeafReady(leaf)` is called once per leaf reached, as soon as its gradient for this
  /// pass is complete — after the last op that uses it ran backward — so data-parallel
  /// training can start reducing a parameter's gradient while backward goes on.
  public func backward(gradient: Tensor? = nil, onLeafReady: ((GradNode) throws -> Void)? = nil) throws {
    OpProfiler.isInBackward = OpProfiler.isEnabled
    defer { OpProfiler.isInBackward = false }
    try noGrad { try backwardWalk(gradient: gradient, onLeafReady: onLeafReady) }
  }

  private func backwardWalk(gradient: Tensor?, onLeafReady: ((GradNode) throws -> Void)?) throws {
    guard let root = node else {
      throw TensorError("backward: this tensor does not require grad (no parameter or requiresGrad input was used to compute it, or it was computed inside noGrad)")
    }
    let seed: Tensor
    if let g = gradient {
      guard g.shape == shape else {
        throw TensorError("backward: gradient shape \(describe(shape: g.shape)) does not match tensor shape \(describe(shape: shape))")
      }
      seed = g
    } else {
      guard count == 1 else {
        throw TensorError("backward: grad can be implicitly created only for scalar outputs, this tensor has shape \(describe(shape: shape)); pass gradient:")
      }
      seed = Tensor.full(1, shape: shape)
    }
    var order: [GradNode] = []
    var seen = Set<ObjectIdentifier>()
    var stack = [root]
    while let n = stack.popLast() {
      guard seen.insert(ObjectIdentifier(n)).inserted else { continue }
      order.append(n)
      for case let i? in n.inputs { stack.append(i) }
    }
    order.sort { $0.id > $1.id }
    if !root.isLeaf && root.backward == nil {
      throw TensorError("backward: the graph was already freed by an earlier backward(); recompute the forward pass")
    }
    if root.isLeaf {
      deliver(seed, to: root)
      try onLeafReady?(root)
      return
    }
    // For each op (by position in `order`), the leaves it is the last user of.
    var lastUserOf: [Int: [GradNode]] = [:]
    if onLeafReady != nil {
      var claimed = Set<ObjectIdentifier>()
      for (k, n) in order.enumerated().reversed() where !n.isLeaf {
        for case let i? in n.inputs where i.isLeaf && claimed.insert(ObjectIdentifier(i)).inserted {
          lastUserOf[k, default: []].append(i)
        }
      }
    }
    root.grad = seed
    for (k, n) in order.enumerated() where !n.isLeaf {
      if let g = n.grad {
        n.grad = nil
        guard let fn = n.backward else {
          throw TensorError("backward: node \(n.name) was already freed by an earlier backward(); recompute the forward pass")
        }
        n.backward = nil
        let inputGrads = try OpProfiler.measure("bwd " + n.name) { try fn(g) }
        for (input, ig) in zip(n.inputs, inputGrads) {
          guard let input, let ig else { continue }
          if input.isLeaf { deliver(ig, to: input) } else { input.accumulate(ig) }
        }
      }
      if let ready = lastUserOf[k], let onLeafReady { for leaf in ready { try onLeafReady(leaf) } }
    }
  }

  private func deliver(_ g: Tensor, to leaf: GradNode) {
    leaf.gradHook?(g)
    if !leaf.discardsGrad { leaf.accumulate(g) }
  }
}
