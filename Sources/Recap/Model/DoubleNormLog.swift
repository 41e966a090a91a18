import Foundation
import TMLNN
import TMLTensor

/// The ranker's input featurization (the original's `DoubleNormLog`):
///
///     x = continuous;  x = isfinite(x) ? x : 0;  x = sign(x)·log1p(|x|)
///     x = BatchNorm1d(x)                    (if batch_norm_config)
///     x = clamp(x, −clip, clip)
///     x = concat(x, binary)
///     x = LayerNorm(x, eps)                 (if layer_norm_config; center == scale)
///
/// State names follow the original's module list `_before_concat_layers`
/// (0 InputNonFinite, 1 Log1pAbs, 2 BatchNorm wrapper `.layer`, 3 Clamp with buffers
/// `min_value`/`max_value`; the Clamp is 2 without batch norm) and `layer_norm.layer`.
/// With ε = 0 a constant row is guarded in `Tensor.layerNorm` (no NaN).
public final class DoubleNormLog: Module {
  public let batchNorm: BatchNorm1d?
  public let clampMin: Buffer
  public let clampMax: Buffer
  public let layerNorm: LayerNorm?
  public var isTraining = true

  /// Wraps a module under the attribute `layer`, as the original's BatchNorm/LayerNorm wrappers do.
  final class Wrapper: Module {
    let layer: any Module
    var isTraining = true
    init(_ layer: any Module) { self.layer = layer }
    var children: [(String, any Module)] { [("layer", layer)] }
  }

  /// A module holding the clamp bounds as buffers.
  final class ClampBounds: Module {
    let minValue: Buffer, maxValue: Buffer
    var isTraining = true
    init(_ lo: Buffer, _ hi: Buffer) { minValue = lo; maxValue = hi }
    var buffers: [(String, Buffer)] { [("min_value", minValue), ("max_value", maxValue)] }
  }

  /// Stateless positions 0 and 1 of the list.
  final class Stateless: Module { var isTraining = true }

  public init(continuousFeatures: Int, binaryFeatures: Int, batchNorm: RecapMLP.BatchNormSpec?,
              clipMagnitude: Float, layerNorm: (epsilon: Float, affine: Bool)?) {
    self.batchNorm = batchNorm.map { BatchNorm1d(continuousFeatures, affine: $0.affine, momentum: $0.momentum) }
    clampMin = Buffer(Tensor(scalar: -clipMagnitude))
    clampMax = Buffer(Tensor(scalar: clipMagnitude))
    self.layerNorm = layerNorm.map { LayerNorm(continuousFeatures + binaryFeatures, eps: $0.epsilon, affine: $0.affine) }
  }

  public var children: [(String, any Module)] {
    var list: [any Module] = [Stateless(), Stateless()]
    if let batchNorm { list.append(Wrapper(batchNorm)) }
    list.append(ClampBounds(clampMin, clampMax))
    var c: [(String, any Module)] = [("_before_concat_layers", ModuleList(list))]
    if let layerNorm { c.append(("layer_norm", Wrapper(layerNorm))) }
    return c
  }

  public func forward(continuous: Tensor, binary: Tensor) throws -> Tensor {
    if !GradMode.isEnabled, !isTraining, !(batchNorm?.isTraining ?? false) {
      return try inferenceForward(continuous: continuous, binary: binary)
    }
    var x = continuous.replacingNonFinite(with: 0)
    x = try x.sign() * x.abs().log1p()
    if let batchNorm {
      batchNorm.isTraining = isTraining
      x = try batchNorm(x)
    }
    x = x.clamp(min: clampMin.value.item ?? -.infinity, max: clampMax.value.item ?? .infinity)
    x = try Tensor.concat([x, binary], axis: -1)
    if let layerNorm { x = try layerNorm(x) }
    return x
  }

  /// Eval mode without autograd: everything before the LayerNorm in one pass
  /// (`Tensor.signedLogFeatures`, bitwise equal to the op-by-op path).
  private func inferenceForward(continuous: Tensor, binary: Tensor) throws -> Tensor {
    let bn = batchNorm.map {
      SignedLogBatchNorm(runningMean: $0.runningMean.value.scalars, runningVar: $0.runningVar.value.scalars, eps: $0.eps,
                         weight: $0.weight?.value.scalars, bias: $0.bias?.value.scalars)
    }
    let x = try Tensor.signedLogFeatures(continuous: continuous, binary: binary, batchNorm: bn,
                                         clampMin: clampMin.value.item ?? -.infinity, clampMax: clampMax.value.item ?? .infinity)
    return try layerNorm.map { try $0(x) } ?? x
  }
}
