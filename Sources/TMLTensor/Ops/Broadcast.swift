/// NumPy/PyTorch broadcasting: shapes are aligned at their last dimension and each
/// dimension must be equal or 1. The plan walks the output in rows of its last
/// dimension; within a row each operand advances by stride 1 or 0 (broadcast), so the
/// inner loops are plain vectorisable loops.
struct BroadcastPlan {
  let outShape: [Int]
  let aStrides: [Int]  // element strides of a over outShape (0 where broadcast)
  let bStrides: [Int]

  init(_ op: String, _ a: [Int], _ b: [Int]) throws {
    let r = max(a.count, b.count)
    let pa = Array(repeating: 1, count: r - a.count) + a
    let pb = Array(repeating: 1, count: r - b.count) + b
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
      if pa[i] == pb[i] || pb[i] == 1 { out[i] = pa[i] } else if pa[i] == 1 { out[i] = pb[i] } else {
        throw TensorError("\(op): shapes \(describe(shape: a)) and \(describe(shape: b)) cannot be broadcast (dimension \(i - (r - max(a.count, b.count))) is \(pa[i]) vs \(pb[i])); make them equal or 1")
      }
    }
    outShape = out
    aStrides = BroadcastPlan.strides(pa, out)
    bStrides = BroadcastPlan.strides(pb, out)
  }

  static func strides(_ padded: [Int], _ out: [Int]) -> [Int] {
    var s = [Int](repeating: 0, count: out.count)
    var acc = 1
    for i in stride(from: out.count - 1, through: 0, by: -1) {
      s[i] = padded[i] == 1 && out[i] != 1 ? 0 : acc
      acc *= padded[i]
    }
    return s
  }

  /// Calls `row(outOffset, aOffset, bOffset, n, aStep, bStep)` for each run of the last dimension.
  @inline(__always)
  func forEachRow(_ row: (Int, Int, Int, Int, Int, Int) -> Void) {
    let r = outShape.count
    if r == 0 { row(0, 0, 0, 1, 0, 0); return }
    let n = outShape[r - 1]
    let total = outShape.reduce(1, *)
    if n == 0 || total == 0 { return }
    let aStep = aStrides[r - 1], bStep = bStrides[r - 1]
    var index = [Int](repeating: 0, count: r)
    var aOff = 0, bOff = 0
    var o = 0
    while o < total {
      row(o, aOff, bOff, n, aStep, bStep)
      o += n
      var d = r - 2
      while d >= 0 {
        index[d] += 1
        aOff += aStrides[d]
        bOff += bStrides[d]
        if index[d] < outShape[d] { break }
        aOff -= aStrides[d] * index[d]
        bOff -= bStrides[d] * index[d]
        index[d] = 0
        d -= 1
      }
    }
  }
}

extension Tensor {
  /// Sums `self` down to `target` shape, undoing a broadcast (the backward of broadcasting).
  func sumToShape(_ target: [Int]) -> Tensor {
    if target == shape { return self }
    let plan = try! BroadcastPlan("sumToShape", shape, target)  // target broadcasts to shape by construction
    let out = Tensor.zeros(target)
    let g = base, o = out.base
    plan.forEachRow { oo, _, tOff, n, _, tStep in
      if tStep == 0 {
        var s: Float = 0
        for i in 0..<n { s += g[oo &+ i] }
        o[tOff] += s
      } else {
        for i in 0..<n { o[tOff &+ i] += g[oo &+ i] }
      }
    }
    return out
  }
}
