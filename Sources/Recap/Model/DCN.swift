import TMLNN
import TMLTensor

/// Deep & Cross Network v2 (Wang et al. 2021, arXiv:2008.13535) — named in the original's
/// config (`dcn_config`) but missing from its code; implemented here:
///
///     x_{l+1} = x₀ ⊙ (W_l·x_l + b_l) + x_l,         l = 0 … poly_degree − 1
///     W_l = U_l·V_l  when projection_dim is set (V: d → r, U: r → d)
///     parallel:  out = concat(x_L, MLP_p(x₀))        stacked: out = MLP_p(x_L)
///     out = MLP_out(out)                             (if output_mlp)
///
/// Xavier-uniform weights, zero biases. Names: `_cross_layers.<l>.{weight,bias}` (full
/// rank) or `_cross_layers.<l>._down.weight`, `._up.{weight,bias}` (projected),
/// `_parallel_mlp.layers.*`, `_output_mlp.layers.*`.
public final class DCN: Module {
  final class CrossLayer: Module {
    let full: Linear?
    let down: Linear?
    let up: Linear?
    var isTraining = true

    init(dim: Int, projection: Int?, rng: inout RandomGenerator) {
      if let r = projection {
        down = Linear(dim, r, bias: false, initialization: .xavierUniform, rng: &rng)
        up = Linear(r, dim, initialization: .xavierUniform, rng: &rng)
        full = nil
      } else {
        full = Linear(dim, dim, initialization: .xavierUniform, rng: &rng)
        down = nil
        up = nil
      }
    }

    var parameters: [(String, Parameter)] { full?.parameters ?? [] }
    var children: [(String, any Module)] {
      guard let down, let up else { return [] }
      return [("_down", down), ("_up", up)]
    }

    func callAsFunction(x0: Tensor, x: Tensor) throws -> Tensor {
      let mixed = try full.map { try $0(x) } ?? (try up!(try down!(x)))
      return try x0 * mixed + x
    }
  }

  let crossLayers: [CrossLayer]
  public let parallelMLP: RecapMLP?
  public let outputMLP: RecapMLP?
  public let useParallel: Bool
  public let outFeatures: Int
  public var isTraining = true

  public init(inFeatures: Int, polyDegree: Int, projectionDim: Int?, useParallel: Bool,
              parallelMLP: ((Int) throws -> RecapMLP)?, outputMLP: ((Int) throws -> RecapMLP)?,
              rng: inout RandomGenerator) throws {
    guard polyDegree > 0 else { throw TensorError("dcn_config.poly_degree must be positive, got \(polyDegree)") }
    crossLayers = (0..<polyDegree).map { _ in CrossLayer(dim: inFeatures, projection: projectionDim, rng: &rng) }
    self.useParallel = useParallel
    // Parallel: the MLP reads x₀; stacked: it reads x_L. Both have the input's width.
    self.parallelMLP = try parallelMLP?(inFeatures)
    var width = inFeatures
    if let p = self.parallelMLP { width = useParallel ? inFeatures + p.outFeatures : p.outFeatures }
    self.outputMLP = try outputMLP?(width)
    outFeatures = self.outputMLP?.outFeatures ?? width
  }

  public var children: [(String, any Module)] {
    var c: [(String, any Module)] = [("_cross_layers", ModuleList(crossLayers))]
    if let parallelMLP { c.append(("_parallel_mlp", parallelMLP)) }
    if let outputMLP { c.append(("_output_mlp", outputMLP)) }
    return c
  }

  public func forward(_ x0: Tensor) throws -> Tensor {
    var x = x0
    for layer in crossLayers { x = try layer(x0: x0, x: x) }
    var out = x
    if let p = parallelMLP {
      out = useParallel ? try Tensor.concat([x, try p.output(x0)], axis: -1) : try p.output(x)
    }
    if let o = outputMLP { out = try o.output(out) }
    return out
  }
}
