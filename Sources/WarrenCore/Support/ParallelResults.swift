import Synchronization

/// Slots filled from concurrent work (`DispatchQueue.concurrentPerform`), read once all is done.
final class ParallelResults<Value: Sendable>: Sendable {
    private let slots: Mutex<[Value?]>

    init(count: Int) {
        slots = Mutex(Array(repeating: nil, count: count))
    }

    func set(_ index: Int, _ value: Value) {
        slots.withLock { $0[index] = value }
    }

    /// Every value, in index order; each slot must have been set.
    var values: [Value] {
        slots.withLock { $0.map { $0! } }
    }
}
