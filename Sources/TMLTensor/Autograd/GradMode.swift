import Foundation

/// Whether operations record autograd nodes on the current thread.
/// `noGrad { ... }` switches recording off for inference, like `torch.no_grad()`.
public enum GradMode {
  private final class Flag { var disabledDepth = 0 }
  private static let key: pthread_key_t = {
    var k = pthread_key_t()
    pthread_key_create(&k) { p in
      if let p = p as UnsafeMutableRawPointer? { Unmanaged<AnyObject>.fromOpaque(p).release() }
    }
    return k
  }()

  private static var flag: Flag {
    if let p = pthread_getspecific(key) { return Unmanaged<Flag>.fromOpaque(p).takeUnretainedValue() }
    let f = Flag()
    pthread_setspecific(key, Unmanaged.passRetained(f as AnyObject).toOpaque())
    return f
  }

  /// True unless inside a `noGrad` scope on this thread.
  public static var isEnabled: Bool { flag.disabledDepth == 0 }

  static func withDisabled<T>(_ body: () throws -> T) rethrows -> T {
    let f = flag
    f.disabledDepth += 1
    defer { f.disabledDepth -= 1 }
    return try body()
  }
}

/// Runs `body` without recording autograd history (inference, optimizer updates).
@discardableResult
public func noGrad<T>(_ body: () throws -> T) rethrows -> T {
  try GradMode.withDisabled(body)
}
