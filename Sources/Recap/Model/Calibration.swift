import TMLNN
import TMLTensor

/// Numeric calibration of a probability trained on downsampled data (the original's
/// `NumericCalibration`): with r = neg_downsampling_rate / pos_downsampling_rate,
///
///     calibrated = p·r / (1 − p + r·p)
///
/// undoes the sampling. State: buffer `ratio` (a float scalar).
public final class NumericCalibration: Module {
  public let ratio: Buffer
  public var isTraining = true

  public init(posDownsamplingRate: Double, negDownsamplingRate: Double) {
    ratio = Buffer(Tensor(scalar: Float(negDownsamplingRate / posDownsamplingRate)))
  }

  public var buffers: [(String, Buffer)] { [("ratio", ratio)] }

  public func callAsFunction(_ p: Tensor) throws -> Tensor {
    let r = ratio.value.item ?? 1
    return try (p * r) / ((1 - p) + p * r)
  }
}

/// A learnable affine map of a tower's logit, z ↦ a·z + b (the original's
/// `Linear(1, 1)` initialised to the config's scale and bias): `weight` [1, 1], `bias` [1].
public final class AffineMap: UnaryLayer {
  public let linear: Linear
  public var isTraining = true

  public init(scale: Float, bias: Float) {
    linear = Linear(1, 1)
    try? linear.weight.assign(Tensor.full(scale, shape: [1, 1]))  // shapes match by construction
    try? linear.bias?.assign(Tensor.full(bias, shape: [1]))
  }

  public var parameters: [(String, Parameter)] { linear.parameters }
  public func callAsFunction(_ z: Tensor) throws -> Tensor { try linear(z) }
}
