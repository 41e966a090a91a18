import TMLDistributed
import TMLNN
import TMLTensor

/// The gradient sum of one data-parallel step started **during** backward: the replicated
/// parameters are grouped into `GradientBucket`s (the plan `sumGradients` uses), and as soon as
/// every parameter of the next bucket has its final gradient (`Tensor.backward(onLeafReady:)`)
/// the bucket's non-blocking all-reduce starts (MPI_Iallreduce), while backward computes
/// the layers below. Each later readiness polls the requests in flight so MPI progresses
/// them; `finish()` starts what is left (parameters backward never reached take part
/// with zeros), waits, and puts the sums back as the gradients:
///
///     g ← Σ_ranks g_rank          per bucket, buckets started in the same order on every rank
///
/// the same sum `DataParallel.sumGradients()` makes after backward.
///
///     let r = dp.startOverlappedReduction()
///     try loss.backward(onLeafReady: r.leafReady);  try r.finish();  try optimizer.step()
public final class OverlappedGradientReduction {
  let communicator: any Communicator
  let buckets: [GradientBucket]
  /// The leaf node of each parameter → (bucket, position in it).
  let slotOfLeaf: [ObjectIdentifier: (bucket: Int, index: Int)]
  private var ready: [[Bool]]
  private var readyCount: [Int]
  private var nextToStart = 0
  /// Per started bucket: its request and the storage it reduces (kept alive until `finish`).
  private var started: [(request: PendingCollective, flat: FlatBuffer?, gradient: Tensor?)] = []

  /// Floats at a fixed address for a request in flight (`GradientBucket.gather` fills all).
  final class FlatBuffer {
    let values: UnsafeMutableBufferPointer<Float>
    init(count: Int) { values = .allocate(capacity: count) }
    deinit { values.deallocate() }
  }

  init(communicator: any Communicator, parameters: [Parameter], bucketElements: Int) {
    self.communicator = communicator
    let buckets = GradientBucket.plan(parameters, bucketElements: bucketElements)
    self.buckets = buckets
    var slots: [ObjectIdentifier: (Int, Int)] = [:]
    for (b, bucket) in buckets.enumerated() {
      for (i, p) in bucket.parameters.enumerated() {
        if let leaf = p.value.node { slots[ObjectIdentifier(leaf)] = (b, i) }
      }
    }
    slotOfLeaf = slots
    ready = buckets.map { [Bool](repeating: false, count: $0.parameters.count) }
    readyCount = [Int](repeating: 0, count: buckets.count)
  }

  /// Backward's callback: marks the parameter whose gradient is final, starts every bucket
  /// (in order) whose parameters are all final, and lets the requests in flight progress.
  public func leafReady(_ leaf: GradNode) throws {
    if let (b, i) = slotOfLeaf[ObjectIdentifier(leaf)], !ready[b][i] {
      ready[b][i] = true
      readyCount[b] += 1
      while nextToStart < buckets.count, readyCount[nextToStart] == buckets[nextToStart].parameters.count {
        try start(nextToStart)
        nextToStart += 1
      }
    }
    for s in started { _ = try s.request.poll() }
  }

  private func start(_ b: Int) throws {
    let bucket = buckets[b]
    if bucket.alone, let p = bucket.parameters.first, var g = p.grad {
      p.zeroGrad()  // the leaf lets go, so the gradient's storage is reduced in place
      // A tensor's storage is a class with a fixed address; `g` keeps it alive until `finish`.
      let request = try g.withUnsafeMutableBufferPointer { try communicator.startAllReduce($0, .sum) }
      started.append((request, nil, g))
      return
    }
    let flat = FlatBuffer(count: bucket.size)
    bucket.gather(into: flat.values)
    started.append((try communicator.startAllReduce(flat.values, .sum), flat, nil))
  }

  /// After an error between start and `finish` (backward threw), requests may still be in
  /// flight: their buffers are kept (leaked) rather than freed under MPI's writes.
  deinit {
    for s in started where (try? s.request.poll()) != true {
      if let flat = s.flat { _ = Unmanaged.passRetained(flat) }
      if let g = s.gradient { _ = Unmanaged.passRetained(Box(g)) }
    }
  }

  private final class Box { let tensor: Tensor; init(_ t: Tensor) { tensor = t } }

  /// Starts the buckets backward did not complete, waits for every one, and sets the
  /// summed gradients (a parameter without a gradient keeps none).
  public func finish() throws {
    while nextToStart < buckets.count {
      try start(nextToStart)
      nextToStart += 1
    }
    for (b, s) in started.enumerated() {
      try s.request.wait()
      let bucket = buckets[b]
      if bucket.alone, let g = s.gradient {
        bucket.parameters[0].value.setGrad(g)
        continue
      }
      if let flat = s.flat { bucket.scatter(from: flat.values) }
    }
    started = []
  }
}
