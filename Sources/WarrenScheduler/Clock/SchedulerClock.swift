#if canImport(Glibc)
import Glibc
#endif

/// Where the scheduler reads the time and waits for it; tests inject a `VirtualClock` to drive
/// DST days, downtime and catch-up without waiting.
public protocol SchedulerClock: Sendable {
    /// Wall-clock time in nanoseconds since the Unix epoch.
    func nanosecondsNow() -> Int64
    /// Returns once the wall clock reads `deadline` (milliseconds since the epoch) or later;
    /// throws `CancellationError` if the calling task is cancelled first.
    func sleep(untilMilliseconds deadline: Int64) async throws
}

extension SchedulerClock {
    /// Wall-clock time in milliseconds since the Unix epoch.
    public func millisecondsNow() -> Int64 {
        let nanoseconds = nanosecondsNow()
        return nanoseconds >= 0 ? nanoseconds / 1_000_000 : (nanoseconds - 999_999) / 1_000_000
    }
}

/// The machine's real-time clock. Sleeps are measured on the monotonic clock and re-checked
/// against the wall clock on waking, so a clock step (NTP) moves the wake-up with it.
public struct SystemClock: SchedulerClock {
    public init() {}

    public func nanosecondsNow() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    public func sleep(untilMilliseconds deadline: Int64) async throws {
        while true {
            let remaining = deadline &* 1_000_000 &- nanosecondsNow()
            if remaining <= 0 { return }
            try await Task.sleep(for: .nanoseconds(remaining), tolerance: .zero, clock: .continuous)
        }
    }
}
