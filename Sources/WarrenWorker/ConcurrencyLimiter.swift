import Synchronization

/// At most `limit` holders at a time; `acquire` waits in order for a free slot. The limit can
/// change while tasks run (`--autoscale`): raising it lets waiters in at once, lowering it
/// takes effect as holders release.
final class ConcurrencyLimiter: Sendable {
    private struct State {
        var limit: Int
        var inUse = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(limit: Int) {
        state = Mutex(State(limit: limit))
    }

    func acquire() async {
        // Fast path: a free slot needs no suspension.
        let granted = state.withLock { state -> Bool in
            guard state.inUse < state.limit, state.waiters.isEmpty else { return false }
            state.inUse += 1
            return true
        }
        if granted { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.inUse < state.limit {
                    state.inUse += 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.inUse -= 1
            guard state.inUse < state.limit, !state.waiters.isEmpty else { return nil }
            state.inUse += 1
            return state.waiters.removeFirst()
        }
        next?.resume()
    }

    /// Changes the limit, letting waiters in if it rose.
    func setLimit(_ limit: Int) {
        let admitted = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.limit = limit
            var admitted: [CheckedContinuation<Void, Never>] = []
            while state.inUse < state.limit, !state.waiters.isEmpty {
                state.inUse += 1
                admitted.append(state.waiters.removeFirst())
            }
            return admitted
        }
        for continuation in admitted { continuation.resume() }
    }

    /// The limit, the slots in use, and how many wait for one.
    var snapshot: (limit: Int, inUse: Int, waiting: Int) {
        state.withLock { ($0.limit, $0.inUse, $0.waiters.count) }
    }
}
