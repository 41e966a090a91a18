import TMLTensor

/// A list of modules named by index ("0", "1", …), like PyTorch's `nn.ModuleList`
/// (and `nn.ModuleDict` when built with names): a container for state-dict naming.
public final class ModuleList: Module {
  public let modules: [(String, any Module)]
  public var isTraining = true

  public init(_ modules: [any Module]) { self.modules = modules.enumerated().map { (String($0.offset), $0.element) } }

  /// Named entries, e.g. the ranker's `_towers.<task>`.
  public init(named modules: [(String, any Module)]) { self.modules = modules }

  public var children: [(String, any Module)] { modules }
}
