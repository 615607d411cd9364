/// When a schedule fires: its recurrence in its time zone, within optional bounds.
public struct Timetable: Sendable {
    public let recurrence: Recurrence
    public let zone: ZoneRules
    /// No fire before this instant (seconds since the epoch, inclusive).
    public let start: Int64?
    /// No fire at or after this instant (exclusive).
    public let end: Int64?
    /// What fixed-time cron fires do at daylight-saving changes; interval schedules ignore it.
    public let policy: DaylightSavingPolicy

    private enum Engine: Sendable {
        case cron(CronSchedule)
        case interval(IntervalSchedule)
    }
    private let engine: Engine

    public init(
        recurrence: Recurrence, zone: ZoneRules = .utc, start: Int64? = nil, end: Int64? = nil,
        policy: DaylightSavingPolicy = .default
    ) {
        self.recurrence = recurrence
        self.zone = zone
        self.start = start
        self.end = end
        self.policy = policy
        switch recurrence {
        case .cron(let expression):
            engine = .cron(CronSchedule(expression: expression, zone: zone, policy: policy))
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

    /// Why `fire` differs from the plain wall-clock reading, or nil; see `CronSchedule.explain(fire:)`.
    /// Always nil for interval schedules.
    public func explain(fire: Int64) -> String? {
        switch engine {
        case .cron(let schedule): return schedule.explain(fire: fire)
        case .interval: return nil
        }
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
