import Synchronization

/// A clock that tests move by hand. A sleep whose deadline is at or before the fast-forward
/// limit jumps the clock to its deadline at once, so a scheduler runs through days of fires in
/// milliseconds; any other sleep waits until `advance(toMilliseconds:)` passes its deadline.
public final class VirtualClock: SchedulerClock {
    private struct Sleeper {
        let deadline: Int64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var nanoseconds: Int64
        var fastForwardLimit: Int64?
        var sleepers: [Int: Sleeper] = [:]
        var nextSleeper = 0
    }

    private let state: Mutex<State>

    /// A clock reading `milliseconds` since the epoch.
    public init(milliseconds: Int64) {
        state = Mutex(State(nanoseconds: milliseconds * 1_000_000))
    }

    public func nanosecondsNow() -> Int64 { state.withLock { $0.nanoseconds } }

    /// Moves the clock forward (never back) and wakes every sleep whose deadline has come.
    public func advance(toMilliseconds milliseconds: Int64) {
        let woken = state.withLock { state -> [Sleeper] in
            state.nanoseconds = max(state.nanoseconds, milliseconds * 1_000_000)
            let due = state.sleepers.filter { $0.value.deadline * 1_000_000 <= state.nanoseconds }
            for key in due.keys { state.sleepers[key] = nil }
            return Array(due.values)
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Lets sleeps until `limit` (milliseconds) pass at once, and wakes those already waiting,
    /// in deadline order; nil switches fast-forward off.
    public func fastForward(until limit: Int64?) {
        state.withLock { $0.fastForwardLimit = limit }
        if let limit, let earliest = earliestSleep, earliest <= limit { advance(toMilliseconds: earliest) }
    }

    /// The earliest deadline a task is sleeping until, if any.
    public var earliestSleep: Int64? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    public func sleep(untilMilliseconds deadline: Int64) async throws {
        try Task.checkCancellation()
        let key = state.withLock { state -> Int? in
            if deadline <= state.fastForwardLimit ?? Int64.min || deadline * 1_000_000 <= state.nanoseconds {
                state.nanoseconds = max(state.nanoseconds, deadline * 1_000_000)
                return nil
            }
            state.nextSleeper += 1
            return state.nextSleeper
        }
        guard let key else {
            await Task.yield()
            return
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if deadline * 1_000_000 <= state.nanoseconds || Task.isCancelled { return true }
                    state.sleepers[key] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: key) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }
}
