import Foundation
import TMLNN
import TMLTensor
import XCTest

/// The golden PyTorch fixtures written by tools/golden/make_foundation_fixtures.py.
enum Fixtures {
  /// Tests/TMLNNTests/TestSupport.swift → Tests/Fixtures/foundation
  static let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/foundation")

  /// The repository root (Tests/TMLNNTests/TestSupport.swift → ../..).
  static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static func url(_ name: String) -> URL { directory.appendingPathComponent(name + ".safetensors") }

  static func load(_ name: String) throws -> SafetensorsFile { try SafetensorsFile(contentsOf: url(name)) }
}

/// The outcome of one elementwise comparison: the largest absolute difference, and the
/// largest |a − b| / max(atol, rtol·|b|) (≤ 1 means within tolerance).
struct Closeness {
  var maxAbs: Float = 0
  var worstRatio: Float = 0
  var worstIndex: Int = -1
}

func closeness(_ a: Tensor, _ b: Tensor, rtol: Float, atol: Float) -> Closeness {
  var c = Closeness()
  let x = a.scalars, y = b.scalars
  for i in 0..<min(x.count, y.count) {
    let d = abs(x[i] - y[i])
    let allowed = max(atol, rtol * abs(y[i]))
    let ratio: Float = d.isNaN ? .infinity : (d == 0 ? 0 : d / allowed)
    if d > c.maxAbs || d.isNaN { c.maxAbs = d.isNaN ? .infinity : d }
    if ratio > c.worstRatio || c.worstIndex < 0 { c.worstRatio = ratio; c.worstIndex = i }
  }
  return c
}

/// Asserts `a` has `b`'s shape and |a − b| ≤ max(atol, rtol·|b|) elementwise, reporting
/// the worst element. Prints the measured error (`parity <what>: …`) so a run shows how
/// close each comparison came.
@discardableResult
func assertClose(
  _ a: Tensor, _ b: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6, _ what: String,
  file: StaticString = #filePath, line: UInt = #line
) -> Closeness {
  guard a.shape == b.shape else {
    XCTFail("\(what): shape \(describe(shape: a.shape)) != expected \(describe(shape: b.shape))", file: file, line: line)
    return Closeness(maxAbs: .infinity, worstRatio: .infinity, worstIndex: -1)
  }
  let c = closeness(a, b, rtol: rtol, atol: atol)
  if c.worstIndex >= 0 {
    let (x, y) = (a.scalars[c.worstIndex], b.scalars[c.worstIndex])
    print("parity \(what): max|Δ| = \(c.maxAbs), worst |Δ|/tol = \(c.worstRatio) (got \(x), expected \(y))")
    if !(c.worstRatio <= 1) {
      XCTFail(
        "\(what): element \(c.worstIndex) of \(describe(shape: b.shape)) is \(x), expected \(y) "
          + "(|Δ| = \(abs(x - y)) > max(\(atol), \(rtol)·|expected|)); max|Δ| over all = \(c.maxAbs)",
        file: file, line: line)
    }
  }
  return c
}

/// Asserts two tensors are bit-for-bit equal (same shape, same values).
func assertIdentical(_ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(a.shape, b.shape, "\(what): shape", file: file, line: line)
  XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "\(what): \(a.scalars) != \(b.scalars)", file: file, line: line)
}

/// Runs `body` and returns the `TensorError` message it throws (failing when it does not throw).
func errorMessage<T>(_ what: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) -> String {
  do {
    _ = try body()
    XCTFail("\(what): expected an error, none was thrown", file: file, line: line)
    return ""
  } catch let e as TensorError {
    return e.message
  } catch {
    XCTFail("\(what): expected a TensorError, got \(type(of: error)): \(error)", file: file, line: line)
    return "\(error)"
  }
}

/// Asserts `message` contains every one of `parts`.
func assertMentions(_ message: String, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
  for p in parts {
    XCTAssertTrue(message.contains(p), "error message should mention \"\(p)\"; it is: \(message)", file: file, line: line)
  }
}

/// Makes `p.grad == g` exactly: clears the gradient, then backpropagates sum(p ⊙ g),
/// whose derivative with respect to p is g.
func setGradient(_ p: Parameter, _ g: Tensor) throws {
  p.zeroGrad()
  try (p.value * g).sum().backward()
}

/// A fresh empty directory under the system temporary directory.
func makeTemporaryDirectory(_ label: String) throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("swifttml-\(label)-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// A deterministic tensor of the given shape (values from a seeded normal stream).
func seededTensor(_ shape: [Int], seed: UInt64) -> Tensor {
  var rng = RandomGenerator(seed: seed, stream: 7)
  return Tensor.normal(shape, using: &rng)
}

/// Skips a test that exposes a known bug in Sources (see the message); remove the call once
/// the bug is fixed so the test runs again.
func knownBug(_ description: String) throws {
  throw XCTSkip("BUG: " + description)
}
