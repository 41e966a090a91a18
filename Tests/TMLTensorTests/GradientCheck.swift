import XCTest
@testable import TMLTensor

/// Finite-difference gradient checking for the autograd engine.
///
/// `checkGradients` makes every input a fresh leaf, computes `f`, reduces the output
/// to a scalar with fixed random weights (so each output element receives a
/// different upstream gradient), backpropagates, and compares each input's `.grad`
/// with central finite differences of the same scalar (h = 1e-2, float32, evaluated
/// under `noGrad`). Error measure: |a − n| / max(1, |a|, |n|) ≤ `tolerance`.

/// Weights in [-1, 1) of the given shape, always the same for a given shape.
func fixedRandomWeights(_ shape: [Int], seed: UInt64 = 20_240_601) -> Tensor {
  var rng = RandomGenerator(seed: seed, stream: 99)
  return Tensor.uniform(shape, low: -1, high: 1, using: &rng)
}

/// Deterministic test values in [low, high) (a small generator for test points).
func testValues(_ shape: [Int], low: Float = -1, high: Float = 1, seed: UInt64 = 1) -> Tensor {
  var rng = RandomGenerator(seed: seed, stream: 3)
  return Tensor.uniform(shape, low: low, high: high, using: &rng)
}

/// Deterministic values whose magnitude lies in [minMagnitude, maxMagnitude] with random
/// sign, i.e. at least `minMagnitude` away from a kink at 0 (relu, abs, sign).
func valuesAwayFromZero(_ shape: [Int], minMagnitude: Float = 0.1, maxMagnitude: Float = 1.5, seed: UInt64 = 2) -> Tensor {
  var rng = RandomGenerator(seed: seed, stream: 4)
  let n = shape.reduce(1, *)
  let v = (0..<n).map { _ -> Float in
    let m = rng.uniform(minMagnitude, maxMagnitude)
    return rng.bernoulli(0.5) ? m : -m
  }
  return try! Tensor(shape: shape, scalars: v)
}

/// Central finite differences of the scalar function `loss` with respect to each element
/// of each input (evaluated without recording).
func finiteDifferenceGradients(
  _ inputs: [Tensor], h: Float = 1e-2, _ loss: ([Tensor]) throws -> Float
) throws -> [[Float]] {
  try noGrad {
    var base = inputs.map { $0.detached() }
    var result: [[Float]] = []
    for k in base.indices {
      var grad = [Float](repeating: 0, count: base[k].count)
      let original = base[k]
      for j in 0..<original.count {
        var plus = original
        plus.withUnsafeMutableBufferPointer { $0[j] += h }
        base[k] = plus
        let lp = try loss(base)
        var minus = original
        minus.withUnsafeMutableBufferPointer { $0[j] -= h }
        base[k] = minus
        let lm = try loss(base)
        grad[j] = (lp - lm) / (2 * h)
      }
      base[k] = original
      result.append(grad)
    }
    return result
  }
}

/// Asserts `analytic[k]` ≈ `numeric[k]` element by element; names the op, input and element.
func assertGradientsMatch(
  analytic: [[Float]], numeric: [[Float]], op: String, tolerance: Float,
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(analytic.count, numeric.count, "\(op): gradient count", file: file, line: line)
  for (k, (a, n)) in zip(analytic, numeric).enumerated() {
    guard a.count == n.count else {
      XCTFail("\(op): input \(k): analytic gradient has \(a.count) elements, expected \(n.count)", file: file, line: line)
      continue
    }
    var failures: [String] = []
    for j in a.indices {
      let err = Swift.abs(a[j] - n[j]) / Swift.max(1, Swift.abs(a[j]), Swift.abs(n[j]))
      if !(err <= tolerance) { failures.append("element \(j): analytic \(a[j]) vs numeric \(n[j]) (rel. error \(err))") }
    }
    if !failures.isEmpty {
      let shown = failures.prefix(6).joined(separator: "; ")
      XCTFail("\(op): input \(k): \(failures.count) of \(a.count) gradient elements differ from finite differences (tolerance \(tolerance)): \(shown)\(failures.count > 6 ? "; …" : "")",
              file: file, line: line)
    }
  }
}

/// Checks the gradients of `f` with respect to every input against finite differences.
/// `op` defaults to the calling test's name; the recorded op's name is appended.
func checkGradients(
  _ inputs: [Tensor], tolerance: Float = 2e-2, op: String = #function,
  file: StaticString = #filePath, line: UInt = #line,
  _ f: ([Tensor]) throws -> Tensor
) throws {
  let leaves = inputs.map { $0.detached().requiringGrad("input") }
  let out = try f(leaves)
  guard let node = out.node else {
    XCTFail("\(op): output does not require grad (no node recorded)", file: file, line: line)
    return
  }
  let label = "\(op) [op \(node.name)]"
  let weights = fixedRandomWeights(out.shape)
  let loss = try (out * weights).sum()
  try loss.backward()
  let analytic = leaves.map { leaf -> [Float] in leaf.grad?.scalars ?? [Float](repeating: 0, count: leaf.count) }
  for (k, leaf) in leaves.enumerated() {
    if let g = leaf.grad {
      XCTAssertEqual(g.shape, leaf.shape, "\(label): input \(k): gradient shape", file: file, line: line)
    }
  }
  let numeric = try finiteDifferenceGradients(inputs) { xs in
    let y = try f(xs)
    XCTAssertEqual(y.shape, weights.shape, "\(label): output shape changed between evaluations", file: file, line: line)
    return try (y * weights).sum().item!
  }
  assertGradientsMatch(analytic: analytic, numeric: numeric, op: label, tolerance: tolerance, file: file, line: line)
}

/// Fails unless `body` throws a `TensorError` whose message contains every fragment.
func assertThrowsTensorError<T>(
  _ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
) {
  do {
    _ = try body()
    XCTFail("expected a TensorError containing \(fragments), but nothing was thrown", file: file, line: line)
  } catch let error as TensorError {
    for f in fragments where !error.message.contains(f) {
      XCTFail("error message \"\(error.message)\" does not contain \"\(f)\"", file: file, line: line)
    }
  } catch {
    XCTFail("expected a TensorError, got \(error)", file: file, line: line)
  }
}

/// Element-wise closeness of two float arrays.
func assertClose(
  _ a: [Float], _ b: [Float], tolerance: Float = 1e-5, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(a.count, b.count, "\(message): count", file: file, line: line)
  for (i, (x, y)) in zip(a, b).enumerated() where !(Swift.abs(x - y) <= tolerance * Swift.max(1, Swift.abs(y))) {
    XCTFail("\(message): element \(i): \(x) vs expected \(y)", file: file, line: line)
    return
  }
}
