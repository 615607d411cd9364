import Foundation

/// One entry of the schedule state stream (SPEC §6, docs/schedules.md "Operating schedules"):
/// a change of a schedule's runtime state (pause, resume), a write recorded beside it (trigger,
/// backfill, with the task ids it published), or a reader's marker.
public struct ScheduleCommand: Sendable, Equatable {
    public enum Operation: String, Sendable, CaseIterable {
        case pause, resume, trigger, backfill
        /// Appended by a reader to learn that it has read everything before it; changes nothing.
        case marker
    }

    public var operation: Operation
    /// The schedule's name (the marker's id for a marker).
    public var schedule: String
    /// Pause: fires due at or after this instant (milliseconds) run again; nil until resumed.
    public var until: Int64?
    public var reason: String?
    /// Who gave the command: `cli:USER@HOST (broker user U)` or `api:TOKEN-NAME`.
    public var by: String
    /// When it was given, milliseconds since the epoch.
    public var at: Int64
    /// Trigger and backfill: the task ids published.
    public var taskIDs: [String]

    /// Why `reason` cannot be a pause's reason, or nil: 1 to 125 characters (Unicode scalars), no
    /// control characters.
    public static func reasonProblem(_ reason: String) -> String? {
        let count = reason.unicodeScalars.count
        if count == 0 || count > 125 { return "expected 1 to 125 characters, got \(count)" }
        if reason.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) { return "control characters are not allowed" }
        return nil
    }

    public init(_ operation: Operation, schedule: String, until: Int64? = nil, reason: String? = nil, by: String, at: Int64,
                taskIDs: [String] = []) {
        self.operation = operation
        self.schedule = schedule
        self.until = until
        self.reason = reason
        self.by = by
        self.at = at
        self.taskIDs = taskIDs
    }

    public var body: Data {
        var fields: [String: JSONValue] = [
            "op": .string(operation.rawValue), "schedule": .string(schedule), "by": .string(by), "at": .integer(at),
        ]
        if let until { fields["until"] = .integer(until) }
        if let reason { fields["reason"] = .string(reason) }
        if !taskIDs.isEmpty { fields["task_ids"] = .array(taskIDs.map { .string($0) }) }
        return Data(JSONText.write(.object(fields)).utf8)
    }

    /// Reads an entry; nil for anything else (ignored by readers).
    public init?(body: Data) {
        guard case .object(let fields)? = try? JSONText.parse(body),
              case .string(let op)? = fields["op"], let operation = Operation(rawValue: op),
              case .string(let schedule)? = fields["schedule"], !schedule.isEmpty else { return nil }
        self.operation = operation
        self.schedule = schedule
        if case .integer(let until)? = fields["until"] { self.until = until }
        if case .string(let reason)? = fields["reason"] { self.reason = reason }
        if case .string(let by)? = fields["by"] { self.by = by } else { by = "" }
        if case .integer(let at)? = fields["at"] { self.at = at } else { at = 0 }
        taskIDs = []
        if case .array(let ids)? = fields["task_ids"] {
            for case .string(let id) in ids { taskIDs.append(id) }
        }
    }
}

/// A schedule's pause: fires due from `since` until `until` (or until resumed) do not run.
public struct SchedulePause: Sendable, Equatable {
    /// Milliseconds since the epoch; nil: until resumed.
    public var until: Int64?
    public var reason: String?
    public var by: String
    /// When the pause was given, milliseconds since the epoch.
    public var since: Int64

    /// Whether a fire due at `instant` (milliseconds) is held back by this pause: due at or
    /// after it was given and before its end. A fire due before the pause was given (one missed
    /// while no scheduler ran, say) follows its schedule's catch-up policy instead.
    public func holds(_ instant: Int64) -> Bool { instant >= since && until.map { instant < $0 } ?? true }
}

/// What the schedule state stream says now: the fold of its commands, in order. Pure; the
/// scheduler and the CLI build it the same way.
public struct ScheduleRuntimeState: Sendable, Equatable {
    /// Pauses in force by schedule name (expired ones included until resumed or replaced).
    public private(set) var pauses: [String: SchedulePause] = [:]
    /// Pauses that ended by a resume, newest last (at most `keptPauses` per schedule): a fire
    /// due while one held is not caught up by a scheduler that takes over after the resume.
    public private(set) var endedPauses: [String: [SchedulePause]] = [:]
    /// The last command that changed or wrote to each schedule.
    public private(set) var lastCommand: [String: ScheduleCommand] = [:]
    /// Task ids published by backfills, by schedule.
    public private(set) var backfilled: [String: Set<String>] = [:]
    /// How many commands were applied: of two states read from the same stream, the one with
    /// more is the newer.
    public private(set) var applied = 0

    /// Ended pauses kept per schedule.
    public static let keptPauses = 20

    public init() {}

    /// The pause holding back a fire of `schedule` due at `instant` (milliseconds), if any: the
    /// one in force, or one that held then and was resumed since.
    public func pause(of schedule: String, at instant: Int64) -> SchedulePause? {
        if let current = pauses[schedule], current.holds(instant) { return current }
        return endedPauses[schedule]?.last { $0.holds(instant) }
    }

    /// The pause in force now for `schedule` (at `instant`), ignoring ended ones.
    public func currentPause(of schedule: String, at instant: Int64) -> SchedulePause? {
        pauses[schedule].flatMap { $0.until.map { instant < $0 } ?? true ? $0 : nil }
    }

    /// Whether applying `command` would change anything: a pause that repeats the pause in force
    /// (same end, same reason), or a resume of a schedule that is not paused at `command.at`, does
    /// not. Triggers and backfills always do (each is its own write).
    public func changes(_ command: ScheduleCommand) -> Bool {
        switch command.operation {
        case .pause:
            guard let current = currentPause(of: command.schedule, at: command.at) else { return true }
            return current.until != command.until || current.reason != command.reason
        case .resume:
            return currentPause(of: command.schedule, at: command.at) != nil
        case .trigger, .backfill:
            return true
        case .marker:
            return false
        }
    }

    /// Applies one command; returns whether it changed what fires.
    @discardableResult
    public mutating func apply(_ command: ScheduleCommand) -> Bool {
        guard command.operation != .marker else { return false }
        applied += 1
        let changed = changes(command)
        switch command.operation {
        case .pause:
            guard changed else { return false }
            if let current = pauses[command.schedule] { end(current, at: command.at, of: command.schedule) }
            pauses[command.schedule] = SchedulePause(until: command.until, reason: command.reason, by: command.by, since: command.at)
        case .resume:
            if let current = pauses.removeValue(forKey: command.schedule) { end(current, at: command.at, of: command.schedule) }
            guard changed else { return false }
        case .trigger, .marker:
            break
        case .backfill:
            backfilled[command.schedule, default: []].formUnion(command.taskIDs)
        }
        lastCommand[command.schedule] = command
        return changed && (command.operation == .pause || command.operation == .resume)
    }

    private mutating func end(_ pause: SchedulePause, at instant: Int64, of schedule: String) {
        var ended = pause
        ended.until = min(pause.until ?? instant, instant)
        guard ended.until! > ended.since else { return }
        var kept = endedPauses[schedule, default: []]
        kept.append(ended)
        if kept.count > Self.keptPauses { kept.removeFirst(kept.count - Self.keptPauses) }
        endedPauses[schedule] = kept
    }
}
