/// When a schedule fires: its recurrence in its time zone, within optional bounds.
public struct Timetable: Sendable {
    public let recurrence: Recurrence
    public let zone: ZoneRules
    /// No fire before this instant (seconds since the epoch, inclusive).
    public let start: Int64?
    /// No fire at or after this instant (exclusive).
    public let end: Int64?

    private enum Engine: Sendable {
        case cron(CronSchedule)
        case interval(IntervalSchedule)
    }
    private let engine: Engine

    public init(recurrence: Recurrence, zone: ZoneRules = .utc, start: Int64? = nil, end: Int64? = nil) {
        self.recurrence = recurrence
        self.zone = zone
        self.start = start
        self.end = end
        switch recurrence {
        case .cron(let expression):
            engine = .cron(CronSchedule(expression: expression, zone: zone))
        case .every(let interval):
            engine = .interval(IntervalSchedule(seconds: interval.components.seconds, anchor: start ?? 0))
        }
    }

    /// The first fire strictly after `instant`, or nil when there is none.
    public func nextFire(after instant: Int64) -> Int64? {
        var after = instant
        if let start, start > CronSchedule.earliestInstant, after < start - 1 { after = start - 1 }
        let fire: Int64?
        switch engine {
        case .cron(let schedule): fire = schedule.nextFire(after: after)
        case .interval(let schedule): fire = schedule.nextFire(after: after)
        }
        guard let fire else { return nil }
        if let end, fire >= end { return nil }
        return fire
    }

    /// Up to `count` successive fires strictly after `instant`.
    public func fires(after instant: Int64, count: Int) -> [Int64] {
        var fires: [Int64] = []
        var cursor = instant
        while fires.count < count, let fire = nextFire(after: cursor) {
            fires.append(fire)
            cursor = fire
        }
        return fires
    }
}
