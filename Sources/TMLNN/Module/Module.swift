import TMLTensor

/// A layer or model: a tree of modules that own parameters and buffers. Names are the
/// dotted paths of the attribute names (`_backbone._mask_blocks.0._hidden_layer.weight`),
/// exactly PyTorch's `state_dict()` keys, derived from the tree — never spelled by hand.
///
/// A conforming class lists its own direct `parameters`, `buffers` and `children` in
/// registration order (PyTorch's order: own parameters, own buffers, then children).
///
///     final class Head: Module {
///       public var isTraining = true
///       let proj = Linear(8, 1)
///       var children: [(String, any Module)] { [("proj", proj)] }
///     }
public protocol Module: AnyObject {
  var parameters: [(String, Parameter)] { get }
  var buffers: [(String, Buffer)] { get }
  var children: [(String, any Module)] { get }
  /// Training (batch statistics, dropout on) or evaluation mode.
  var isTraining: Bool { get set }
}

/// A module that maps one tensor to one tensor.
public protocol UnaryLayer: Module {
  func callAsFunction(_ x: Tensor) throws -> Tensor
}

extension Module {
  public var parameters: [(String, Parameter)] { [] }
  public var buffers: [(String, Buffer)] { [] }
  public var children: [(String, any Module)] { [] }

  /// Every parameter in the tree with its dotted name, in state-dict order.
  public func namedParameters(prefix: String = "") -> [(String, Parameter)] {
    var out = parameters.map { (prefix + $0.0, $0.1) }
    for (name, child) in children { out += child.namedParameters(prefix: prefix + name + ".") }
    return out
  }

  /// Every buffer in the tree with its dotted name.
  public func namedBuffers(prefix: String = "") -> [(String, Buffer)] {
    var out = buffers.map { (prefix + $0.0, $0.1) }
    for (name, child) in children { out += child.namedBuffers(prefix: prefix + name + ".") }
    return out
  }

  /// Every module in the tree (self first) with its dotted path.
  public func namedModules(prefix: String = "") -> [(String, any Module)] {
    var out: [(String, any Module)] = [(prefix, self)]
    for (name, child) in children {
      out += child.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name)
    }
    return out
  }

  /// Sets training mode on the whole tree (PyTorch `train()` / `eval()`).
  public func train(_ on: Bool = true) {
    for (_, m) in namedModules() { m.isTraining = on }
  }

  public func eval() { train(false) }

  /// Clears every parameter's gradient.
  public func zeroGrad() { for (_, p) in namedParameters() { p.zeroGrad() } }

  /// Total number of trainable scalars.
  public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.value.count } }
}
