/// Layer normalisation over the last dimension (PyTorch `F.layer_norm`), fused:
///
///     μ = mean(x),  σ² = mean((x − μ)²)  (biased),  r = 1/√(σ² + ε)
///     x̂ = (x − μ)·r,  y = x̂·w + b
///     backward: ĝ = dy·w;  dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂));  dw = Σ dy·x̂;  db = Σ dy
///
/// Guard: a row with σ² + ε = 0 exactly (a constant row with ε = 0, as the ranker's
/// reference config allows) gets r = 0, so x̂ = 0 and y = b instead of NaN. Only that
/// case: a row holding NaN or ±Inf has σ² = NaN and gives NaN, as in PyTorch.
extension Tensor {
  public static func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) throws -> Tensor {
    guard let d = x.shape.last, d > 0 else {
      throw TensorError("layerNorm: input of shape \(describe(shape: x.shape)) has no features to normalise")
    }
    for (name, p) in [("weight", weight), ("bias", bias)] {
      if let p, p.shape != [d] {
        throw TensorError("layerNorm: \(name) must be [\(d)] to match the input's last dimension, got \(describe(shape: p.shape))")
      }
    }
    let rows = x.count / d
    var out = Tensor(uninitializedShape: x.shape)
    let xhat = Tensor(uninitializedShape: x.shape)
    let rstd = Tensor(uninitializedShape: [rows])
    let xp = x.base, yp = out.base, hp = xhat.base, rp = rstd.base
    let wp = weight?.base, bp = bias?.base
    parallelFor(rows, minimumPerThread: Swift.max(1, 32_768 / d)) { range in
      for r in range {
        let xr = xp + r &* d, hr = hp + r &* d, yr = yp + r &* d
        // Moments in Double: exact for a constant row, so its variance is exactly 0.
        var s: Double = 0
        for i in 0..<d { s += Double(xr[i]) }
        let mu = Float(s / Double(d))
        var v: Double = 0
        for i in 0..<d { let c = Double(xr[i]) - Double(mu); v += c * c }
        let denom = Float(v / Double(d)) + eps
        let rs: Float = denom == 0 ? 0 : 1 / denom.squareRoot()
        rp[r] = rs
        for i in 0..<d { hr[i] = (xr[i] - mu) * rs }
        if let wp, let bp { for i in 0..<d { yr[i] = hr[i] * wp[i] + bp[i] } }
        else if let wp { for i in 0..<d { yr[i] = hr[i] * wp[i] } }
        else if let bp { for i in 0..<d { yr[i] = hr[i] + bp[i] } }
        else { yr.update(from: hr, count: d) }
      }
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    let hasWeight = weight != nil, hasBias = bias != nil
    let wd = weight?.detached()
    record(&out, "layerNorm", inputs) { g in
      // The kernel reads x̂ and r through raw pointers: keep their storage alive.
      withExtendedLifetime((xhat, rstd)) { layerNormBackward(g) }
    }
    func layerNormBackward(_ g: Tensor) -> [Tensor?] {
      let gx = Tensor(uninitializedShape: x.shape)
      let gp = g.base, dxp = gx.base, wgt = wd?.base
      parallelFor(rows, minimumPerThread: Swift.max(1, 32_768 / d)) { range in
        for r in range {
          let gr = gp + r &* d, hr = hp + r &* d, dr = dxp + r &* d
          var sumG: Float = 0, sumGH: Float = 0
          if let wgt {
            for i in 0..<d { let gh = gr[i] * wgt[i]; sumG += gh; sumGH += gh * hr[i] }
          } else {
            for i in 0..<d { sumG += gr[i]; sumGH += gr[i] * hr[i] }
          }
          let mg = sumG / Float(d), mgh = sumGH / Float(d), rs = rp[r]
          if let wgt {
            for i in 0..<d { dr[i] = rs * (gr[i] * wgt[i] - mg - hr[i] * mgh) }
          } else {
            for i in 0..<d { dr[i] = rs * (gr[i] - mg - hr[i] * mgh) }
          }
        }
      }
      var grads: [Tensor?] = [gx]
      if hasWeight {
        let gw = Tensor.zeros([d])
        let o = gw.base
        for r in 0..<rows { let gr = gp + r &* d, hr = hp + r &* d; for i in 0..<d { o[i] += gr[i] * hr[i] } }
        grads.append(gw)
      }
      if hasBias { grads.append(g.columnSums(rows: rows, columns: d)) }
      return grads
    }
    return out
  }
}
