/// `@every` / `every:` — fires separated by a fixed real-time interval, ignoring time zones.
///
/// Fires fall on `anchor + k × interval` for whole k, so every scheduler instance computes the
/// same instants whenever it starts. The anchor is the schedule's `start` when it has one,
/// otherwise the Unix epoch: `every: 15m` fires at :00, :15, :30 and :45 UTC.
public struct IntervalSchedule: Sendable, Hashable {
    /// Seconds between fires, at least 1.
    public let seconds: Int64
    /// An instant (seconds since the epoch) on which a fire falls.
    public let anchor: Int64

    public init(seconds: Int64, anchor: Int64 = 0) {
        precondition(seconds > 0, "an interval must be positive")
        self.seconds = seconds
        self.anchor = anchor
    }

    /// The first fire strictly after `instant`.
    public func nextFire(after instant: Int64) -> Int64? {
        if instant < anchor { return anchor }
        let elapsed = instant - anchor
        let (steps, overflow) = (elapsed / seconds + 1).multipliedReportingOverflow(by: seconds)
        guard !overflow, anchor + steps <= CronSchedule.latestInstant else { return nil }
        return anchor + steps
    }
}
