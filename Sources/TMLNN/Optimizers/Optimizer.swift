import TMLTensor

/// Parameters that share a learning-rate schedule (one tower of the ranker, say).
public struct ParameterGroup {
  public var name: String
  public var parameters: [(String, Parameter)]
  public var schedule: LearningRateSchedule

  public init(name: String, parameters: [(String, Parameter)], schedule: LearningRateSchedule) {
    self.name = name
    self.parameters = parameters
    self.schedule = schedule
  }
}

/// A dense first-order optimizer over parameter groups, with PyTorch's update rules and
/// state names. `step()` applies one update to every parameter that has a gradient,
/// at each group's learning rate for the current step (counted from 0), then advances
/// the step. It never knows which model it trains.
///
///     let opt = Adam(groups: [ParameterGroup(name: "all", parameters: model.namedParameters(), schedule: .constant(1e-3))])
///     try loss.backward(); try opt.step(); model.zeroGrad()
open class Optimizer {
  public var groups: [ParameterGroup]
  /// Steps taken so far; the schedules are evaluated at this value.
  public private(set) var iteration = 0
  /// Per-parameter state by parameter name, then state name (`exp_avg`, `sum`, …).
  public var state: [String: [String: Tensor]] = [:]

  public init(groups: [ParameterGroup]) throws {
    self.groups = groups
    var seen = Set<String>()
    for g in groups {
      try g.schedule.validate("parameter group \(g.name)")
      for (n, _) in g.parameters where !seen.insert(n).inserted {
        throw TensorError("optimizer: parameter \(n) appears in more than one group (second time in \(g.name)); each parameter belongs to one group")
      }
    }
  }

  /// The learning rate each group uses at the current step.
  public var currentLearningRates: [String: Float] {
    Dictionary(uniqueKeysWithValues: groups.map { ($0.name, $0.schedule.rate(at: iteration)) })
  }

  public func step() throws {
    try noGrad {
      for g in groups {
        let lr = g.schedule.rate(at: iteration)
        for (name, p) in g.parameters {
          guard let grad = p.grad else { continue }
          // Take the state out so its buffers are uniquely owned and updated in place.
          var s = state.removeValue(forKey: name) ?? [:]
          try update(p, name: name, gradient: grad, learningRate: lr, state: &s)
          state[name] = s
        }
      }
    }
    iteration += 1
  }

  /// Clears the gradients of every parameter this optimizer updates.
  public func zeroGrad() { for g in groups { for (_, p) in g.parameters { p.zeroGrad() } } }

  /// One parameter's update; subclasses implement their rule.
  open func update(_ p: Parameter, name: String, gradient: Tensor, learningRate: Float, state: inout [String: Tensor]) throws {
    throw TensorError("\(type(of: self)).update(_:name:gradient:learningRate:state:) is not implemented: an optimizer subclass must override it (parameter \(name))")
  }

  /// State as `<param>.<state>` entries plus `__optimizer__.iteration`.
  public func stateDict() -> StateDict {
    var d = StateDict()
    for g in groups {
      for (name, _) in g.parameters {
        for (k, v) in (state[name] ?? [:]).sorted(by: { $0.key < $1.key }) { d["\(name).\(k)"] = .init(v) }
      }
    }
    d["__optimizer__.iteration"] = .init(Tensor(scalar: Float(iteration)), dtype: .i64)
    return d
  }

  /// Restores state saved by `stateDict()`; every entry must name a parameter of this
  /// optimizer and hold finite values.
  public func loadStateDict(_ d: StateDict, origin: String = "optimizer state") throws {
    var byName: [String: [String: Tensor]] = [:]
    let params = Dictionary(uniqueKeysWithValues: groups.flatMap { $0.parameters })
    for (key, e) in d.entries {
      if key == "__optimizer__.iteration" { iteration = Int(e.tensor.item ?? 0); continue }
      guard let dot = key.lastIndex(of: "."), let p = params[String(key[..<dot])] else {
        throw TensorError("\(origin): entry \(key) does not belong to any parameter of this optimizer; was it saved for another model?")
      }
      // Per-element state has the parameter's shape; counters are scalars.
      guard e.tensor.shape == p.shape || (e.tensor.count == 1 && e.tensor.rank <= 1) else {
        throw TensorError("\(origin): entry \(key) has shape \(describe(shape: e.tensor.shape)) but parameter \(key[..<dot]) has shape \(describe(shape: p.shape)); was it saved for another model?")
      }
      if let bad = NonFiniteValue.first(in: e.tensor, name: key, kind: .state) {
        throw TensorError("\(origin): \(bad); the optimizer would turn every weight it updates into NaN. The file is damaged or was saved by a run that diverged: resume from an earlier checkpoint.")
      }
      byName[String(key[..<dot]), default: [:]][String(key[key.index(after: dot)...])] = e.tensor
    }
    state = byName
  }

  // MARK: shared kernels

  /// Runs `body` over the parameter's values, the gradient and state buffers.
  static func withBuffers(
    _ p: Parameter, _ gradient: Tensor, _ buffers: inout [Tensor],
    _ body: (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>, [UnsafeMutableBufferPointer<Float>]) -> Void
  ) {
    var ptrs: [UnsafeMutableBufferPointer<Float>] = []
    for i in buffers.indices { buffers[i].withUnsafeMutableBufferPointer { ptrs.append($0) } }
    gradient.withUnsafeBufferPointer { g in
      p.value.withUnsafeMutableBufferPointer { w in body(w, g, ptrs) }
    }
  }
}
