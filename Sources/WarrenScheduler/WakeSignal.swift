import Synchronization

/// Lets a reload interrupt the scheduler's sleep until the next due fire.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var sleeper: Task<Void, any Error>?
    }

    private let state = Mutex(State())

    /// Ends the current sleep, or the next one at once if none is under way.
    func signal() {
        let sleeper = state.withLock { state in
            state.pending = true
            return state.sleeper
        }
        sleeper?.cancel()
    }

    /// Sleeps until `deadline` (milliseconds; nil: until signalled) on `clock`, or until signalled.
    /// Throws `CancellationError` if the calling task is cancelled.
    func sleep(on clock: any SchedulerClock, until deadline: Int64?) async throws {
        let sleeper = Task {
            if let deadline {
                try await clock.sleep(untilMilliseconds: deadline)
            } else {
                while true { try await Task.sleep(for: .seconds(3600)) }
            }
        }
        let signalled = state.withLock { state in
            if state.pending { return true }
            state.sleeper = sleeper
            return false
        }
        if signalled { sleeper.cancel() }
        await withTaskCancellationHandler {
            _ = try? await sleeper.value
        } onCancel: {
            sleeper.cancel()
        }
        state.withLock { state in
            state.sleeper = nil
            state.pending = false
        }
        try Task.checkCancellation()
    }
}
