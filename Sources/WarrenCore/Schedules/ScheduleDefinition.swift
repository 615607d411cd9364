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

    /// When the schedule fires, bounds included.
    public var timetable: Timetable {
        Timetable(recurrence: recurrence, zone: zone, start: start, end: end)
    }

    /// Settings a schedule gets when neither it nor its file's `defaults` says otherwise.
    static let defaultQueue = "default"
    static let defaultCatchupWindow = Duration.seconds(3600)
}
