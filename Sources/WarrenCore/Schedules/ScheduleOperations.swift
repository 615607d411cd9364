import Cron
import Foundation

/// A schedule operation named a schedule that is not in force.
public struct UnknownScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let suggestion: String?

    public var description: String {
        "no schedule named \"\(name)\" is loaded by the scheduler" + (suggestion.map { " (did you mean \"\($0)\"?)" } ?? "")
    }
}

extension ScheduleSet {
    /// The schedule called `name`, or an error naming it with the closest name in force.
    public func lookup(_ name: String) throws(UnknownScheduleError) -> ScheduleDefinition {
        guard let schedule = schedule(named: name) else {
            throw UnknownScheduleError(name: name, suggestion: Suggestion.closest(to: name, among: schedules.map(\.name)))
        }
        return schedule
    }
}

/// What `warren schedules backfill` publishes: every fire instant of a schedule in `[from, to)`,
/// in order, less those already done. Pure; the CLI and the API supply what the store and the
/// state stream know.
public struct BackfillPlan: Sendable, Equatable {
    /// At most this many fires per command.
    public static let limit = 1000

    /// Instants (seconds since the epoch) to publish, in order.
    public var publish: [Int64]
    /// Instants left out because their task's latest stored result is `succeeded`.
    public var succeeded: [Int64]
    /// Instants left out because an earlier backfill published them and they have no final
    /// result yet (still queued or running). One that failed is published again.
    public var backfilledBefore: [Int64]

    /// Plans a backfill of `schedule` over `[from, to)` (seconds). `stored` is the latest stored
    /// status of each fire's task id that has one; `backfilledIDs` the ids earlier backfills
    /// published. Unless `rerun`, a fire that succeeded, or that an earlier backfill published
    /// and that has no final result yet, is left out. Throws when the range ends before it
    /// starts, reaches past `now` (the scheduler publishes those fires itself, with the same
    /// ids), or holds more than `limit` fires.
    public static func plan(_ schedule: ScheduleDefinition, from: Int64, to: Int64, now: Int64, stored: [String: ResultStatus] = [:],
                            backfilledIDs: Set<String> = [], rerun: Bool = false) throws(BackfillRangeError) -> BackfillPlan {
        guard from <= to else { throw .reversedRange }
        guard to <= now + 1 else { throw .future }
        let instants = instants(of: schedule, from: from, to: to)
        guard instants.count <= limit else { throw .tooMany(limit: limit) }
        var plan = BackfillPlan(publish: [], succeeded: [], backfilledBefore: [])
        for instant in instants {
            let id = ScheduleDefinition.fireTaskID(schedule: schedule.name, scheduledFor: instant)
            let status = stored[id]
            if !rerun, status == .succeeded {
                plan.succeeded.append(instant)
            } else if !rerun, backfilledIDs.contains(id), status == nil || status == .retrying {
                plan.backfilledBefore.append(instant)
            } else {
                plan.publish.append(instant)
            }
        }
        return plan
    }

    /// The fire instants of `schedule` in `[from, to)`, at most `limit + 1` of them.
    public static func instants(of schedule: ScheduleDefinition, from: Int64, to: Int64) -> [Int64] {
        schedule.timetable.fires(after: from - 1, count: limit + 1).filter { $0 < to }
    }
}

/// Why a backfill range is refused.
public enum BackfillRangeError: Error, Sendable, Equatable, CustomStringConvertible {
    case reversedRange
    case future
    case tooMany(limit: Int)

    public var description: String {
        switch self {
        case .reversedRange: "--from must not be after --to"
        case .future: "--to is in the future; the scheduler publishes those fires itself"
        case .tooMany(let limit): "the range holds more than \(limit) fires; backfill it in parts (--from/--to)"
        }
    }
}

extension ScheduleDefinition {
    /// `NAME@2026-03-08T10:00:00Z`: the task id of the fire of `schedule` for `scheduledFor`
    /// (seconds), the same for every scheduler instance, every retry of the publish and a backfill.
    public static func fireTaskID(schedule: String, scheduledFor: Int64) -> String {
        schedule + "@" + Timestamp.formatUTC(seconds: scheduledFor)
    }

    /// The task a fire of this schedule for `instant` (seconds) publishes.
    public func fireMessage(for instant: Int64, expiresAt: Date? = nil, trigger: String? = nil) -> TaskMessage {
        TaskMessage(id: ScheduleDefinition.fireTaskID(schedule: name, scheduledFor: instant), task: task, args: args, queue: queue,
                    priority: priority, schedule: name, scheduledFor: Timestamp.format(instant, in: zone), expiresAt: expiresAt,
                    trigger: trigger)
    }
}

extension ScheduleDefinition {
    /// Everything that decides what and when this schedule publishes, field by field, named as
    /// in schedule files (`when` is its `cron` or `every`). Two definitions with the same fields
    /// behave the same; where in a file it stands does not count.
    public var settingFields: [(key: String, value: String)] {
        var args = ""
        JSONText.write(self.args, into: &args)
        return [
            ("when", recurrence.description), ("timezone", zone.identifier), ("task", task), ("args", args), ("queue", queue),
            ("catchup", catchup.rawValue), ("catchup_window", DurationSyntax.format(catchupWindow)), ("overlap", overlap.rawValue),
            ("jitter", DurationSyntax.format(jitter)), ("priority", priority.map(String.init) ?? "-"),
            ("expires", expires.map(DurationSyntax.format) ?? "-"), ("paused", "\(paused)"),
            ("start", start.map { Timestamp.format($0, in: zone) } ?? "-"), ("end", end.map { Timestamp.format($0, in: zone) } ?? "-"),
            ("alert_after", alertAfter.map(DurationSyntax.format) ?? "-"), ("alert_failures", alertFailures.map(String.init) ?? "-"),
            ("dst_gap", dstPolicy.gap.rawValue), ("dst_overlap", dstPolicy.overlap.rawValue),
        ]
    }

    /// The fields in which `other` differs from this definition: (field, this, other).
    public func differences(to other: ScheduleDefinition) -> [(key: String, old: String, new: String)] {
        zip(settingFields, other.settingFields).compactMap { old, new in old.value == new.value ? nil : (old.key, old.value, new.value) }
    }
}
