import Synchronization

/// Task ids cancelled with `warren cancel`, and the tasks running here that a cancel must stop.
final class CancellationRegistry: Sendable {
    private struct State {
        var cancelled: Set<String> = []
        var running: [String: @Sendable () -> Void] = [:]
    }
    private let state = Mutex(State())

    /// Records a cancel; stops the task if it is running here.
    func cancel(_ id: String) {
        let stop = state.withLock { state -> (@Sendable () -> Void)? in
            state.cancelled.insert(id)
            return state.running[id]
        }
        stop?()
    }

    func isCancelled(_ id: String) -> Bool {
        state.withLock { $0.cancelled.contains(id) }
    }

    /// Marks `id` running until `finished` is called; `stop` is called if it is cancelled meanwhile.
    /// Returns false (and registers nothing) when it is cancelled already.
    func start(_ id: String, stop: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard !state.cancelled.contains(id) else { return false }
            state.running[id] = stop
            return true
        }
    }

    func finished(_ id: String) {
        _ = state.withLock { $0.running.removeValue(forKey: id) }
    }
}
