import Foundation
import TMLTensor

/// max(x, 0) (PyTorch `nn.ReLU`).
public final class ReLU: UnaryLayer {
  public var isTraining = true
  public init() {}
  public func callAsFunction(_ x: Tensor) throws -> Tensor { x.relu() }
}

/// σ(x) = 1/(1 + e^−x) (PyTorch `nn.Sigmoid`).
public final class Sigmoid: UnaryLayer {
  public var isTraining = true
  public init() {}
  public func callAsFunction(_ x: Tensor) throws -> Tensor { x.sigmoid() }
}

/// Inverted dropout (PyTorch `nn.Dropout(p)`): in training each element is zeroed with
/// probability p and the rest scaled by 1/(1 − p); identity in evaluation.
/// Owns its random stream so runs are reproducible (and checkpoints save it).
public final class Dropout: UnaryLayer, StochasticModule {
  public let probability: Float
  public var isTraining = true
  /// The generator of the masks.
  public var randomStream: RandomGenerator
  /// Data-parallel: draw the global batch's masks, use this rank's rows (`ReplicaSlice`).
  public var replica: ReplicaSlice?

  /// Without an explicit generator each Dropout gets its own stream, numbered in
  /// creation order (so two layers never share masks and runs stay reproducible).
  public init(_ probability: Float, rng: RandomGenerator? = nil) {
    self.probability = probability
    randomStream = rng ?? RandomGenerator(seed: 0, stream: 0xD40_0000 &+ Dropout.nextStream())
  }

  private static let counterLock = NSLock()
  nonisolated(unsafe) private static var counter: UInt64 = 0
  private static func nextStream() -> UInt64 {
    counterLock.lock(); defer { counterLock.unlock() }
    counter += 1
    return counter
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    guard isTraining, probability > 0 else { return x }
    let p = probability
    return try ReplicaSlice.draw(replica, draws: x.count, from: &randomStream) { try x.dropout(probability: p, using: &$0) }
  }
}
