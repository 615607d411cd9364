import Cron
import Foundation

/// One fire instant of a schedule as `warren schedules history`, the API and the dashboard's
/// schedule page show it (SPEC §7): built from the fire's stored result.
public struct FireHistoryEntry: Sendable, Equatable {
    public var id: String
    /// The scheduled instant, ISO-8601 as the result carries it.
    public var scheduledFor: String?
    /// `schedule`, `catchup`, `manual` or `backfill`.
    public var trigger: String
    public var status: ResultStatus
    /// Started − scheduled, in milliseconds (nil when it never started).
    public var latenessMs: Int64?
    public var durationMs: Int64?
    /// Attempts made (the newest attempt's number).
    public var attempts: Int
    /// Why a fire did not run (`skipped`, `missed`) or the error of a failed one.
    public var reason: String?

    public init(_ result: TaskResult) {
        id = result.id
        scheduledFor = result.scheduledFor
        trigger = result.trigger ?? "schedule"
        status = result.status
        let scheduled = result.scheduledFor.flatMap(TaskResult.parseTimestamp)
        let started = result.startedAt.flatMap(TaskResult.parseTimestamp)
        if let scheduled, let started {
            latenessMs = Int64(((started.timeIntervalSince1970 - scheduled.timeIntervalSince1970) * 1000).rounded())
        }
        durationMs = result.durationMs
        attempts = result.attempt
        reason = result.status == .succeeded ? nil : result.error.map { String($0.prefix(200)) }
    }

    /// The entries of `results` (one per task id), oldest fire first.
    public static func entries(_ results: [TaskResult]) -> [FireHistoryEntry] {
        results.map(FireHistoryEntry.init).sorted { ($0.scheduledFor ?? "", $0.id) < ($1.scheduledFor ?? "", $1.id) }
    }

    public var json: JSONValue {
        .object([
            "id": .string(id), "scheduled_for": scheduledFor.map(JSONValue.string) ?? .null, "trigger": .string(trigger),
            "status": .string(status.rawValue), "lateness_ms": latenessMs.map(JSONValue.integer) ?? .null,
            "duration_ms": durationMs.map(JSONValue.integer) ?? .null, "attempts": .integer(Int64(attempts)),
            "reason": reason.map(JSONValue.string) ?? .null,
        ])
    }
}
