/// Batch normalisation of a [B, C] tensor per column (PyTorch `F.batch_norm`).
///
/// Training: μ_c, σ²_c = batch mean and **biased** variance; x̂ = (x − μ)/√(σ² + ε);
/// y = x̂·w + b. Backward: ĝ = dy·w;
/// dx = (1/B)·r·(B·ĝ − Σ_b ĝ − x̂·Σ_b ĝ·x̂); dw = Σ_b dy·x̂; db = Σ_b dy.
/// Evaluation: μ, σ² are the running statistics, so y is a per-column affine map and
/// dx = dy·w·r. The running-statistics update belongs to the `BatchNorm1d` module.
///
/// With `crossReplicaSum` (SyncBatchNorm, data-parallel training) B is the batch of all
/// replicas: every per-column sum above — Σx (with the row count), Σ(x − μ)², Σĝ, Σĝ·x̂ —
/// is summed over the replicas by the closure (an all-reduce) before it is used, so N
/// replicas holding B/N rows each compute what one process holding all B rows does.
extension Tensor {
  public struct BatchStatistics {
    public let mean: [Float]
    /// Biased variance (divided by B).
    public let variance: [Float]
    /// B: the rows the statistics cover (all replicas' with a cross-replica sum).
    public let count: Int
  }

  /// Sums a vector over the replicas of a data-parallel job, in place (an all-reduce).
  public typealias CrossReplicaSum = (inout [Double]) throws -> Void

  public static func batchNorm(
    _ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float,
    training: Bool, runningMean: Tensor?, runningVar: Tensor?, crossReplicaSum: CrossReplicaSum? = nil
  ) throws -> (Tensor, BatchStatistics?) {
    let reduce = training ? crossReplicaSum : nil
    guard x.rank == 2 else { throw TensorError("batchNorm: expects a [batch, features] tensor, got \(describe(shape: x.shape))") }
    let (b, c) = (x.shape[0], x.shape[1])
    for (name, p) in [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)] {
      if let p, p.shape != [c] { throw TensorError("batchNorm: \(name) must be [\(c)], got \(describe(shape: p.shape))") }
    }
    if training && b <= 1 && reduce == nil {
      throw TensorError("batchNorm: expected more than 1 value per channel when training, got input of shape \(describe(shape: x.shape)); use a batch larger than 1 or eval mode")
    }
    var mean = [Float](repeating: 0, count: c), variance = [Float](repeating: 0, count: c)
    let xp = x.base
    // The rows the statistics cover: this batch, or every replica's.
    var total = b
    if training {
      // Batch moments accumulated in Double (columns are short sums that cancel).
      var m = [Double](repeating: 0, count: c), v = [Double](repeating: 0, count: c)
      for r in 0..<b { let row = xp + r &* c; for j in 0..<c { m[j] += Double(row[j]) } }
      if let reduce {
        m.append(Double(b))
        try reduce(&m)
        total = Int(m.removeLast())
        if total <= 1 {
          throw TensorError("batchNorm: expected more than 1 value per channel when training, got \(total) rows over all replicas; use a larger batch")
        }
      }
      for j in 0..<c { m[j] /= Double(total) }
      for r in 0..<b { let row = xp + r &* c; for j in 0..<c { let d = Double(row[j]) - m[j]; v[j] += d * d } }
      if let reduce { try reduce(&v) }
      mean = m.map { Float($0) }
      variance = v.map { Float($0 / Double(total)) }
    } else {
      guard let rm = runningMean, let rv = runningVar else {
        throw TensorError("batchNorm: eval mode needs running_mean and running_var (module built with track_running_stats)")
      }
      mean = rm.scalars
      variance = rv.scalars
    }
    let rstd = variance.map { 1 / ($0 + eps).squareRoot() }
    var out = Tensor(uninitializedShape: x.shape)
    let xhat = Tensor(uninitializedShape: x.shape)
    let yp = out.base, hp = xhat.base
    let w = weight?.scalars ?? [Float](repeating: 1, count: c)
    let bb = bias?.scalars ?? [Float](repeating: 0, count: c)
    for r in 0..<b {
      let xr = xp + r &* c, hr = hp + r &* c, yr = yp + r &* c
      for j in 0..<c {
        let h = (xr[j] - mean[j]) * rstd[j]
        hr[j] = h
        yr[j] = h * w[j] + bb[j]
      }
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    let hasWeight = weight != nil, hasBias = bias != nil
    record(&out, training ? "batchNormTrain" : "batchNormEval", inputs) { g in
      try withExtendedLifetime(xhat) { try batchNormBackward(g) }
    }
    func batchNormBackward(_ g: Tensor) throws -> [Tensor?] {
      let gp = g.base
      var sumGD = [Double](repeating: 0, count: c), sumGHD = [Double](repeating: 0, count: c)
      for r in 0..<b {
        let gr = gp + r &* c, hr = hp + r &* c
        for j in 0..<c { sumGD[j] += Double(gr[j]); sumGHD[j] += Double(gr[j]) * Double(hr[j]) }
      }
      // The local dw, db (this replica's rows); dx needs the sums over all replicas.
      let localG = sumGD.map { Float($0) }, localGH = sumGHD.map { Float($0) }
      if let reduce {
        var both = sumGD + sumGHD
        try reduce(&both)
        sumGD = Array(both[0..<c])
        sumGHD = Array(both[c...])
      }
      let sumG = sumGD.map { Float($0) }, sumGH = sumGHD.map { Float($0) }
      let gx = Tensor(uninitializedShape: x.shape)
      let dp = gx.base
      for r in 0..<b {
        let gr = gp + r &* c, hr = hp + r &* c, dr = dp + r &* c
        if training {
          let inv = 1 / Float(total)
          for j in 0..<c { dr[j] = w[j] * rstd[j] * (gr[j] - inv * sumG[j] - hr[j] * inv * sumGH[j]) }
        } else {
          for j in 0..<c { dr[j] = gr[j] * w[j] * rstd[j] }
        }
      }
      var grads: [Tensor?] = [gx]
      // dw, db of this replica's rows: the gradient all-reduce of data-parallel training
      // sums them with the other parameters' gradients.
      if hasWeight { grads.append(Tensor(localGH)) }
      if hasBias { grads.append(Tensor(localG)) }
      return grads
    }
    return (out, training ? BatchStatistics(mean: mean, variance: variance, count: total) : nil)
  }
}
