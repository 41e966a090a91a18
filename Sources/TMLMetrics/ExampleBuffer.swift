/// The examples a non-decomposable metric (AUROC, globally normalised NRCE) must keep
/// until `compute`: scores or predictions, labels and optional weights, as Float32 —
/// what the model produces, and what the original keeps in its metric state. Weights
/// stay `nil` (all 1) until a batch brings some, saving a third of the memory.
struct ExampleBuffer {
  private(set) var scores: [Float] = []
  private(set) var labels: [Float] = []
  private(set) var weights: [Float]? = nil

  var count: Int { scores.count }

  /// Appends an already-validated batch.
  mutating func append(scores s: [Float], labels y: [Float], weights w: [Float]?) {
    if let w {
      if weights == nil { weights = [Float](repeating: 1, count: scores.count) }
      weights!.append(contentsOf: w)
    } else if weights != nil {
      weights!.append(contentsOf: repeatElement(1, count: s.count))
    }
    scores.append(contentsOf: s)
    labels.append(contentsOf: y)
  }

  /// Appends an already-validated batch of Double values, rounded to Float32.
  mutating func append(scores s: [Double], labels y: [Double], weights w: [Double]?) {
    append(scores: s.map { Float($0) }, labels: y.map { Float($0) }, weights: w.map { $0.map { Float($0) } })
  }

  mutating func removeAll() {
    scores.removeAll()
    labels.removeAll()
    weights = nil
  }
}
