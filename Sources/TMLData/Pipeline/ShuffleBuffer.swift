import TMLTensor

/// A fixed-size shuffle buffer (tf.data's `shuffle(buffer_size)`): the first `capacity`
/// items fill it; after that each new item replaces a uniformly chosen resident, which
/// is emitted. `drain()` empties what is left in random order. Deterministic for a seed.
public struct ShuffleBuffer<Element> {
  public let capacity: Int
  private var items: [Element] = []
  private var rng: RandomGenerator

  public init(capacity: Int, seed: UInt64) {
    self.capacity = max(capacity, 1)
    rng = RandomGenerator(seed: seed, stream: 0x5_4FF1E)
  }

  /// Adds `item`; returns an item to emit once the buffer is full.
  public mutating func push(_ item: Element) -> Element? {
    if items.count < capacity { items.append(item); return nil }
    let i = rng.int(below: capacity)
    let out = items[i]
    items[i] = item
    return out
  }

  /// The remaining items in random order.
  public mutating func drain() -> [Element] {
    var out: [Element] = []
    while !items.isEmpty {
      items.swapAt(rng.int(below: items.count), items.count - 1)
      out.append(items.removeLast())
    }
    return out
  }
}
