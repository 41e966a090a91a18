/// Fused affine map y = x·Wᵀ + b (PyTorch `F.linear`): W is [out, in], b is [out].
/// Forward: rows of y start as b, then one `sgemm` (W transposed by flag) adds x·Wᵀ.
/// Backward: dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy — two GEMMs and a column sum.
/// Leading dimensions of x are flattened into rows.
extension Tensor {
  public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
    guard weight.rank == 2 else { throw TensorError("linear: weight must be [out, in], got \(describe(shape: weight.shape))") }
    let (outF, inF) = (weight.shape[0], weight.shape[1])
    var (out, m) = try linearOutputStartingAtBias(x, outFeatures: outF, inFeatures: inF, bias: bias, weightName: "weight")
    let o = out.base
    if inF > 0 {
      BLAS.gemm(transA: false, transB: true, m: m, n: outF, k: inF, a: x.base, lda: inF,
                b: weight.base, ldb: inF, beta: bias == nil ? 0 : 1, c: o, ldc: outF)
    }
    let (xd, wd) = (x.detached(), weight.detached())
    var inputs = [x, weight]
    if let b = bias { inputs.append(b) }
    record(&out, "linear", inputs) { g in
      var gx: Tensor? = nil, gw: Tensor? = nil, gb: Tensor? = nil
      if x.requiresGrad {
        let t = Tensor(uninitializedShape: x.shape)
        BLAS.gemm(transA: false, transB: false, m: m, n: inF, k: outF, a: g.base, lda: outF,
                  b: wd.base, ldb: inF, beta: 0, c: t.base, ldc: inF)
        gx = t
      }
      if weight.requiresGrad {
        let t = Tensor(uninitializedShape: [outF, inF])
        BLAS.gemm(transA: true, transB: false, m: outF, n: inF, k: m, a: g.base, lda: outF,
                  b: xd.base, ldb: inF, beta: 0, c: t.base, ldc: inF)
        gw = t
      }
      if let b = bias, b.requiresGrad { gb = g.columnSums(rows: m, columns: outF) }
      return [gx, gw, gb]
    }
    return out
  }

  /// y = x·Wᵀ + b with W pre-packed by `PackedMatrix(transposing: W)`: inference only
  /// (no autograd history; an error if x records gradients), same result as `linear`
  /// up to float rounding of the k-sum order.
  /// `epilogue` is applied to each output tile right after the GEMM wrote it.
  public static func linear(_ x: Tensor, packedWeight w: PackedMatrix, bias: Tensor?,
                            epilogue: LinearEpilogue = .none) throws -> Tensor {
    guard !(GradMode.isEnabled && x.requiresGrad) else {
      throw TensorError("linear: a packed weight is for inference; call it inside noGrad { } (the input records gradients)")
    }
    let (out, m) = try linearOutputStartingAtBias(x, outFeatures: w.columns, inFeatures: w.rows, bias: bias, weightName: "packed weight")
    try epilogue.validate(outputShape: out.shape)
    if w.rows > 0, m > 0, w.columns > 0 {
      OpProfiler.measure(BLAS.gemmProfileKey(false, true, m, w.columns, w.rows) + " packed",
                         flops: 2 * Double(m) * Double(w.columns) * Double(w.rows)) {
        GEMMKernel.gemm(transA: false, m: m, a: x.base, lda: w.rows, packed: w, accumulate: bias != nil, c: out.base,
                        ldc: w.columns, epilogue: epilogue)
      }
    } else {
      epilogue.apply(out.base, rows: m, columns: w.columns)
    }
    if OpProfiler.isEnabled { OpProfiler.lap("fwd linear") }
    return out
  }

  /// Checks x [..., in] and b [out] against a weight [out, in]; returns y [..., out] with
  /// every row set to b, and its row count. Without a bias y is left for the GEMM to
  /// overwrite, or zeroed when in = 0 (an empty sum, where no GEMM runs).
  static func linearOutputStartingAtBias(_ x: Tensor, outFeatures outF: Int, inFeatures inF: Int, bias: Tensor?,
                                         weightName: String) throws -> (output: Tensor, rows: Int) {
    guard x.rank >= 1, x.shape.last == inF else {
      throw TensorError("linear: input of shape \(describe(shape: x.shape)) does not match \(weightName) [out=\(outF), in=\(inF)]; the last input dimension must be \(inF)")
    }
    if let b = bias, b.shape != [outF] {
      throw TensorError("linear: bias must be [\(outF)], got \(describe(shape: b.shape))")
    }
    let rows = x.shape.dropLast().reduce(1, *)
    let out = try Tensor(allocatingShape: Array(x.shape.dropLast()) + [outF])
    if let b = bias {
      let (o, bp) = (out.base, b.base)
      for r in 0..<rows { (o + r &* outF).update(from: bp, count: outF) }
    } else if inF == 0 {
      out.base.initialize(repeating: 0, count: rows * outF)
    }
    return (out, rows)
  }

  /// Σ over rows of a [rows, columns] buffer, as a [columns] tensor.
  func columnSums(rows: Int, columns: Int) -> Tensor {
    let out = Tensor.zeros([columns])
    let o = out.base, g = base
    for r in 0..<rows {
      let row = g + r &* columns
      for c in 0..<columns { o[c] += row[c] }
    }
    return out
  }
}
