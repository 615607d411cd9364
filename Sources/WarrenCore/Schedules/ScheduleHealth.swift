import Cron
import Foundation

/// A schedule's dead-man's switch (SPEC §7): whether a fire has gone without a final result for
/// longer than `alert_after`, and how many final failures came in a row. Pure: the backend and
/// `warren schedules health` read the store and hand the rows in.
public struct ScheduleHealth: Sendable, Equatable {
    public var schedule: String
    /// The fire (task id) that has had no final result for `alert_after`, if one has.
    public var overdueFire: String?
    /// Final failures (`failed`, `timed_out`, `expired`, `rejected`) since the last success.
    public var consecutiveFailures: Int
    /// When the last successful run finished, milliseconds since the epoch.
    public var lastSuccess: Int64?
    /// Whether `consecutiveFailures` reached `alert_failures`.
    public var failing: Bool

    public var overdue: Bool { overdueFire != nil }
    /// Overdue or failing: `warren schedules health` exits 1 and the dashboard shows it red.
    public var inTrouble: Bool { overdue || failing }

    /// What is wrong, one phrase per problem (empty when healthy).
    public var problems: [String] {
        var problems: [String] = []
        if let overdueFire { problems.append("overdue: \(overdueFire) has no final result") }
        if failing { problems.append("\(consecutiveFailures) failures in a row") }
        return problems
    }

    /// `{"schedule", "overdue", "overdue_fire", "consecutive_failures", "failing",
    /// "last_success", "in_trouble", "problems"}` as `schedules health --json` and the dashboard
    /// give it.
    public var json: JSONValue {
        .object([
            "schedule": .string(schedule), "overdue": .bool(overdue), "overdue_fire": overdueFire.map(JSONValue.string) ?? .null,
            "consecutive_failures": .integer(Int64(consecutiveFailures)), "failing": .bool(failing),
            "last_success": lastSuccess.map { .string(Timestamp.formatUTC(milliseconds: $0)) } ?? .null,
            "in_trouble": .bool(inTrouble), "problems": .array(problems.map(JSONValue.string)),
        ])
    }

    /// Evaluates `schedule` at `now` (milliseconds).
    /// - Parameters:
    ///   - candidate: `overdueCandidate(of:now:after:)`, the fire to check.
    ///   - candidateResult: the stored result of the candidate's task id, if any.
    ///   - recent: the schedule's newest stored results, newest first.
    ///   - lastSuccess: its newest `succeeded` result.
    ///
    /// A schedule paused in its file is never overdue; one paused at runtime is not either, as
    /// each fire it holds leaves a final `skipped` record.
    public init(schedule: ScheduleDefinition, candidate: Int64?, candidateResult: TaskResult?, recent: [TaskResult],
                lastSuccess: TaskResult?) {
        self.schedule = schedule.name
        if let candidate, schedule.alertAfter != nil, !schedule.paused, !(candidateResult?.status.isFinal ?? false) {
            overdueFire = ScheduleDefinition.fireTaskID(schedule: schedule.name, scheduledFor: candidate)
        }
        var failures = 0
        for result in recent {
            if result.status == .succeeded { break }
            // `cancelled`, `skipped` and `missed` neither count nor end a row.
            if result.status.isFailure { failures += 1 }
        }
        consecutiveFailures = failures
        failing = schedule.alertFailures.map { failures >= $0 } ?? false
        self.lastSuccess = (lastSuccess?.finishedAt ?? lastSuccess?.startedAt).flatMap(TaskResult.parseTimestamp)
            .map { $0.millisecondsSince1970 }
    }

    /// The fire to check for `alert_after`: the newest instant (seconds) after `floor` whose
    /// deadline (instant + jitter + `alert_after`) has passed at `now` (milliseconds); nil when
    /// none, or when the schedule has no `alert_after`. `floor` is where the store's knowledge of
    /// the schedule starts: its newest stored fire, else when its file was last written.
    public static func overdueCandidate(of schedule: ScheduleDefinition, now: Int64, after floor: Int64) -> Int64? {
        guard let alertAfter = schedule.alertAfter else { return nil }
        let grace = alertAfter + schedule.jitter
        let latest = Int64((Double(now) / 1000 - Double(grace.components.seconds) - Double(grace.components.attoseconds) / 1e18).rounded(.down))
        guard latest > floor else { return nil }
        let timetable = schedule.timetable
        // Look back in growing windows for the newest fire at or before `latest`.
        var window: Int64 = 60
        while true {
            let from = max(floor, latest - window)
            var newest: Int64?
            var cursor = from
            var steps = 0
            while let next = timetable.nextFire(after: cursor), next <= latest {
                newest = next
                cursor = next
                steps += 1
                if steps > 10_000 { break }
            }
            if let newest { return newest }
            if from == floor { return nil }
            window *= 8
        }
    }
}
