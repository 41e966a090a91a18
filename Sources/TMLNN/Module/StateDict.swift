import TMLTensor

/// The element type a state entry is stored as on disk (safetensors dtypes).
public enum StateDType: String, Sendable, CaseIterable {
  case f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", u8 = "U8", bool = "BOOL"

  public var byteWidth: Int {
    switch self {
    case .f32, .i32: return 4
    case .f16, .bf16: return 2
    case .i64: return 8
    case .u8, .bool: return 1
    }
  }
}

/// An ordered map from dotted names to tensors: a model's parameters and buffers, or an
/// optimizer's state (`<param>.<state>`). Values are held as Float32 with the dtype
/// they are saved as.
public struct StateDict {
  public struct Entry {
    public var tensor: Tensor
    public var dtype: StateDType
    public init(_ tensor: Tensor, dtype: StateDType = .f32) {
      self.tensor = tensor
      self.dtype = dtype
    }
  }

  public private(set) var names: [String] = []
  private var table: [String: Entry] = [:]

  public init() {}

  public subscript(name: String) -> Entry? {
    get { table[name] }
    set {
      if table[name] == nil, newValue != nil { names.append(name) }
      if newValue == nil { names.removeAll { $0 == name } }
      table[name] = newValue
    }
  }

  public var count: Int { names.count }
  public var entries: [(String, Entry)] { names.map { ($0, table[$0]!) } }
}

extension Module {
  /// Parameters and buffers by dotted name (PyTorch `state_dict()`).
  public func stateDict() -> StateDict {
    var d = StateDict()
    collect(into: &d, prefix: "")
    return d
  }

  private func collect(into d: inout StateDict, prefix: String) {
    for (n, p) in parameters { d[prefix + n] = .init(p.value.detached()) }
    for (n, b) in buffers { d[prefix + n] = .init(b.value, dtype: b.dtype) }
    for (n, c) in children { c.collect(into: &d, prefix: prefix + n + ".") }
  }

  /// Loads parameters and buffers by name. Strict (the default): every key of the model
  /// must be present with its shape and no extra key may appear; all problems are listed
  /// in one error. A `model.` prefix on every key (the original's ModelAndLoss wrapper)
  /// is accepted. Non-strict: loads what matches and returns the report.
  /// A row-sharded parameter (`Parameter.rowShard`) takes the whole tensor and keeps its
  /// rows, or takes its rows as they are (a rank-local checkpoint load).
  /// Either way nothing is loaded when a parameter holds NaN or ±Inf, or a buffer NaN:
  /// the error names the entry, the element and `origin` (the file).
  @discardableResult
  public func loadStateDict(_ source: StateDict, strict: Bool = true, origin: String = "state dict") throws -> StateDictReport {
    var state = source
    let params = namedParameters(), bufs = namedBuffers()
    let ownNames = Set(params.map(\.0) + bufs.map(\.0))
    // Strip the original's `model.` wrapper prefix only when the keys do not already
    // name this model's entries (a model may itself have a child called `model`).
    if !state.names.isEmpty, state.names.allSatisfy({ $0.hasPrefix("model.") }),
       !state.names.contains(where: { ownNames.contains($0) }) {
      var stripped = StateDict()
      for (n, e) in state.entries { stripped[String(n.dropFirst("model.".count))] = e }
      state = stripped
    }
    var report = StateDictReport()
    var expected = Set<String>()
    var plan: [(Tensor, (Tensor) throws -> Void)] = []
    var nonFinite: NonFiniteValue? = nil
    for (name, p) in params {
      expected.insert(name)
      guard let e = state[name] else { report.missing.append(name); continue }
      // A row-sharded parameter loads its rows of the whole tensor, or its rows already
      // selected (`CheckpointManager.load(_:rowShards:)`).
      let shape = p.rowShard.map { $0.wholeShape(p.shape) } ?? p.shape
      let alreadyLocal = p.rowShard != nil && e.tensor.shape == p.shape
      if e.tensor.shape != shape && !alreadyLocal { report.mismatched.append((name, shape, e.tensor.shape)); continue }
      nonFinite = nonFinite ?? NonFiniteValue.first(in: e.tensor, name: name, kind: .parameter)
      if let shard = p.rowShard, !alreadyLocal {
        plan.append((e.tensor, { try p.assign(try shard.slice($0)) }))
      } else {
        plan.append((e.tensor, { try p.assign($0) }))
      }
    }
    for (name, b) in bufs {
      expected.insert(name)
      guard let e = state[name] else { report.missing.append(name); continue }
      if e.tensor.shape != b.value.shape { report.mismatched.append((name, b.value.shape, e.tensor.shape)); continue }
      nonFinite = nonFinite ?? NonFiniteValue.first(in: e.tensor, name: name, kind: .buffer, allowInfinity: true)
      plan.append((e.tensor, { b.value = $0.detached() }))
    }
    report.unexpected = state.names.filter { !expected.contains($0) }
    if strict && !report.isClean {
      throw TensorError("loadStateDict: \(origin) does not match the model:\n\(report.description)\nLoad a checkpoint saved from the same config, or pass strict: false to load the matching keys only.")
    }
    if let bad = nonFinite {
      throw TensorError("loadStateDict: \(origin): \(bad); a model with NaN or infinite weights gives meaningless outputs. The file is damaged or was saved by a run that diverged: load an earlier checkpoint or retrain.")
    }
    for (t, apply) in plan { try apply(t) }
    return report
  }
}

/// What `loadStateDict` found: keys the model needs that were absent, keys present that
/// the model does not have, and keys whose shapes differ.
public struct StateDictReport: CustomStringConvertible {
  public var missing: [String] = []
  public var unexpected: [String] = []
  public var mismatched: [(name: String, expected: [Int], found: [Int])] = []

  public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

  public var description: String {
    var lines: [String] = []
    if !missing.isEmpty { lines.append("  missing keys (\(missing.count)): " + missing.joined(separator: ", ")) }
    if !unexpected.isEmpty { lines.append("  unexpected keys (\(unexpected.count)): " + unexpected.joined(separator: ", ")) }
    for m in mismatched {
      lines.append("  shape mismatch for \(m.name): model has \(describe(shape: m.expected)), file has \(describe(shape: m.found))")
    }
    return lines.isEmpty ? "  (all keys match)" : lines.joined(separator: "\n")
  }
}
