import Foundation
import TMLNN
import TMLTensor

/// The ranker's MLP (the original's `Mlp`): for each hidden size
/// Linear → BatchNorm1d? → ReLU → Dropout?, then a final Linear (→ ReLU when
/// `finalLayerActivation`). Xavier-uniform weights, zero biases. Modules are numbered
/// in one list, `layers.<j>`, so with batch norm and no dropout [256, 128, 1] gives
/// 0 Linear, 1 BN, 2 ReLU, 3 Linear, 4 BN, 5 ReLU, 6 Linear.
/// `sharedLayer` is the output of module 1, as the original returns it.
public final class RecapMLP: Module {
  public struct BatchNormSpec: Equatable, Sendable {
    public var affine: Bool
    public var momentum: Float
    public init(affine: Bool, momentum: Float) {
      self.affine = affine
      self.momentum = momentum
    }
  }

  public let layers: Sequential
  public let outFeatures: Int
  public var isTraining = true

  public init(inFeatures: Int, layerSizes: [Int], batchNorm: BatchNormSpec? = nil, dropout: Float? = nil,
              finalLayerActivation: Bool = false, rng: inout RandomGenerator) throws {
    guard let last = layerSizes.last, layerSizes.allSatisfy({ $0 > 0 }) else {
      throw TensorError("mlp_config.layer_sizes must be a non-empty list of positive sizes, got \(layerSizes)")
    }
    var modules: [any UnaryLayer] = []
    var width = inFeatures
    for size in layerSizes.dropLast() {
      modules.append(Linear(width, size, initialization: .xavierUniform, rng: &rng))
      if let bn = batchNorm { modules.append(BatchNorm1d(size, affine: bn.affine, momentum: bn.momentum)) }
      modules.append(ReLU())
      if let p = dropout { modules.append(Dropout(p, rng: RandomGenerator(seed: rng.next(), stream: 0xD0))) }
      width = size
    }
    modules.append(Linear(width, last, initialization: .xavierUniform, rng: &rng))
    if finalLayerActivation { modules.append(ReLU()) }
    layers = Sequential(modules)
    outFeatures = last
  }

  public var children: [(String, any Module)] { [("layers", layers)] }
  /// BatchNorm folds for inference, by the index of their Linear.
  private var folds: [Int: LinearBatchNormFold] = [:]
  private let foldsLock = NSLock()

  /// The first Linear (module 0).
  public var firstLinear: Linear? { layers.layers.first as? Linear }

  /// (output, shared layer = output of module 1).
  public func forward(_ x: Tensor) throws -> (output: Tensor, shared: Tensor) {
    try forward(fromModule: 0, x)
  }

  /// The output of modules `start…` on `x` (the output of module `start − 1`). In eval
  /// mode without autograd the modules run fused: Linear → BatchNorm1d as one folded
  /// Linear (`LinearBatchNormFold`), a following ReLU as the GEMM's epilogue, Dropout
  /// skipped (identity in eval) — equal to `forward(fromModule:).output` up to float rounding.
  public func output(fromModule start: Int = 0, _ x: Tensor) throws -> Tensor {
    let modules = layers.layers
    guard !GradMode.isEnabled, !modules.contains(where: \.isTraining) else { return try forward(fromModule: start, x).output }
    var h = x
    var i = start
    while i < modules.count {
      guard let linear = modules[i] as? Linear else {
        if !(modules[i] is Dropout) { h = try modules[i](h) }
        i += 1
        continue
      }
      var next = i + 1
      var fold: LinearBatchNormFold? = nil
      if next < modules.count, let bn = modules[next] as? BatchNorm1d {
        fold = self.fold(at: i, linear, bn)
        next += 1
      }
      let fusesReLU = next < modules.count && modules[next] is ReLU
      if fusesReLU { next += 1 }
      let epilogue: LinearEpilogue = fusesReLU ? .relu : .none
      h = try fold?(h, epilogue: epilogue) ?? linear.inference(h, epilogue: epilogue)
      i = next
    }
    return h
  }

  private func fold(at index: Int, _ linear: Linear, _ batchNorm: BatchNorm1d) -> LinearBatchNormFold {
    foldsLock.lock()
    defer { foldsLock.unlock() }
    if let f = folds[index] { return f }
    let f = LinearBatchNormFold(linear, batchNorm)
    folds[index] = f
    return f
  }

  /// Runs modules `start…` on `x` (the output of module `start − 1`).
  public func forward(fromModule start: Int, _ x: Tensor) throws -> (output: Tensor, shared: Tensor) {
    var h = x
    var shared = x
    for (i, layer) in layers.layers.enumerated() where i >= start {
      h = try layer(h)
      if i == 1 { shared = h }
    }
    return (h, shared)
  }
}
