extension Tensor {
  /// Attaches a backward that consumes the output gradient by a side effect (a sparse
  /// table update) and passes nothing on. Used by embedding lookups so the dense
  /// gradient of a table is never built.
  public func attachingSparseBackward(name: String, _ consume: @escaping (Tensor) throws -> Void) -> Tensor {
    var out = self
    out.node = GradNode(name: name, inputs: []) { g in
      try consume(g)
      return []
    }
    return out
  }
}
