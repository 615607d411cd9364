/// A cron expression in a time zone: computes fire instants following cronie's
/// daylight-saving rules, adjusted by a `DaylightSavingPolicy`.
///
/// - Wildcard jobs (`CronExpression.isWildcardJob`) follow real time: wall-clock times skipped
///   by a spring-forward never fire, and times repeated by a fall-back fire in both passes.
/// - Fixed-time jobs follow the policy. By default they fire once at the first instant after a
///   gap for any selected time inside it, and only in the first pass of a repeated hour.
public struct CronSchedule: Sendable {
    public let expression: CronExpression
    public let zone: ZoneRules
    /// What fixed-time fires do at daylight-saving changes.
    public let policy: DaylightSavingPolicy

    /// Searches give up after this long without a fire (one Gregorian cycle and a day).
    static let horizon: Int64 = ZoneRules.cycle + 86_400
    /// The last instant that can be written with a four-digit year: 9999-12-31T23:59:59Z.
    public static let latestInstant: Int64 = 253_402_300_799
    /// Searches start no earlier than 0001-01-01T00:00:00Z.
    public static let earliestInstant: Int64 = -62_135_596_800

    public init(expression: CronExpression, zone: ZoneRules, policy: DaylightSavingPolicy = .default) {
        self.expression = expression
        self.zone = zone
        self.policy = policy
    }

    /// The first fire strictly after `instant` (seconds since the epoch), or nil if there is
    /// none before the search horizon or the year 10000.
    public func nextFire(after instant: Int64) -> Int64? {
        guard instant < Self.latestInstant else { return nil }
        var from = max(instant, Self.earliestInstant - 1) + 1
        let stop = min(from + Self.horizon, Self.latestInstant + 1)
        while from < stop {
            let segment = zone.segment(containing: from)
            let offset = segment.offset
            var lowerLocal = from + offset
            var upperLocal = min(segment.end, stop) + offset
            if !expression.isWildcardJob, policy.gap == .shift, segment.start == from {
                let previous = segment.previousOffset
                if previous < offset {
                    // Spring forward: wall-clock times [start+previous, start+offset) never
                    // happen; any selected one fires now, at the first instant after the gap.
                    if expression.firstMatch(atOrAfter: from + previous, before: from + offset) != nil {
                        return from
                    }
                }
            }
            if !expression.isWildcardJob, policy.overlap == .first, segment.start != .min, segment.previousOffset > offset {
                // Fall back: wall-clock times before start+previous were had in the first pass.
                lowerLocal = max(lowerLocal, segment.start + segment.previousOffset)
            }
            if !expression.isWildcardJob, policy.overlap == .last, segment.end != .max {
                // Fall back at the end: wall-clock times from end+next on come again after it.
                let next = zone.segment(containing: segment.end).offset
                if next < offset { upperLocal = min(upperLocal, segment.end + next) }
            }
            if lowerLocal < upperLocal, let local = expression.firstMatch(atOrAfter: lowerLocal, before: upperLocal) {
                return local - offset
            }
            guard segment.end != .max else { return nil }
            from = segment.end
        }
        return nil
    }
}
