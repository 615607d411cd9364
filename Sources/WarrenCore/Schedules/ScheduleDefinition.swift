import Cron

/// What to do with fires missed while no scheduler was publishing.
public enum CatchupPolicy: String, Sendable, CaseIterable {
    case skip, latest, all
}

/// What to do when a fire comes while the previous run of the same schedule has no final result.
public enum OverlapPolicy: String, Sendable, CaseIterable {
    case allow, skip, replace
}

/// Where a schedule was declared.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int

    public var description: String { "\(file):\(line):\(column)" }
}

/// One validated schedule from a schedule file (SPEC §2).
public struct ScheduleDefinition: Sendable {
    public var name: String
    public var location: SourceLocation
    public var recurrence: Recurrence
    public var zone: ZoneRules
    public var task: String
    public var args: JSONValue
    public var queue: String
    public var catchup: CatchupPolicy
    public var catchupWindow: Duration
    public var overlap: OverlapPolicy
    public var jitter: Duration
    public var priority: Int?
    public var expires: Duration?
    public var paused: Bool
    /// First instant (seconds since the epoch) a fire may fall on.
    public var start: Int64?
    /// Fires fall before this instant.
    public var end: Int64?
    /// A fire with no final result this long after its instant makes the schedule overdue
    /// (SPEC §7, evaluated by the backend).
    public var alertAfter: Duration?
    /// This many final failures in a row put the schedule in trouble.
    public var alertFailures: Int?

    /// What a fixed-time cron schedule does at daylight-saving changes (`dst_gap`, `dst_overlap`).
    public var dstPolicy: DaylightSavingPolicy = .default
    /// Whether the file (or its `defaults`) named the queue. A schedule that names none goes
    /// to its task's `queue:` in the scheduler's task catalog (`warren scheduler --tasks`), else
    /// to `default`: see `resolvingQueue(taskQueues:)`.
    public var queueGiven = true

    /// This schedule with its queue taken from `taskQueues` (task name to the catalog's
    /// `queue:`) when its file names none.
    public func resolvingQueue(taskQueues: [String: String]) -> ScheduleDefinition {
        guard !queueGiven, let queue = taskQueues[task] else { return self }
        var resolved = self
        resolved.queue = queue
        return resolved
    }

    /// Whether the backend watches this schedule's health (`alert_after` or `alert_failures`).
    public var isWatched: Bool { alertAfter != nil || alertFailures != nil }

    /// When the schedule fires, bounds included.
    public var timetable: Timetable {
        Timetable(recurrence: recurrence, zone: zone, start: start, end: end, policy: dstPolicy)
    }

    /// Settings a schedule gets when neither it nor its file's `defaults` says otherwise.
    static let defaultQueue = "default"
    static let defaultCatchupWindow = Duration.seconds(3600)
}
