import Dispatch
import Foundation

/// Splits `0..<count` into contiguous chunks and runs `body(range)` on each, across
/// the machine's cores, when `count ≥ minimumPerThread · 2`; otherwise runs it inline.
/// One closure call per chunk, never per element.
///
///     parallelFor(n, minimumPerThread: 4096) { r in for i in r { out[i] = ... } }
public func parallelFor(
  _ count: Int, minimumPerThread: Int = 16_384, _ body: (Range<Int>) -> Void
) {
  let threads = min(Parallelism.threadCount, count / max(minimumPerThread, 1))
  if threads <= 1 {
    if count > 0 { body(0..<count) }
    return
  }
  let chunk = (count + threads - 1) / threads
  withoutActuallyEscaping(body) { body in
    DispatchQueue.concurrentPerform(iterations: threads) { t in
      let start = t * chunk
      let end = min(start + chunk, count)
      if start < end { body(start..<end) }
    }
  }
}

/// How many worker threads our own kernels use (default: active cores). OpenBLAS follows
/// it (`BLAS.threads`): setting it sets OpenBLAS's count too, and the first BLAS product
/// aligns OpenBLAS with the default unless `OPENBLAS_NUM_THREADS` is set. OpenBLAS's own
/// default counts the host's processors, not a container's CPU quota, and its threads
/// then spin against ours on the cores we have.
public enum Parallelism {
  nonisolated(unsafe) public static var threadCount: Int = ProcessInfo.processInfo.activeProcessorCount {
    didSet { BLAS.threads = max(1, threadCount) }
  }
}
