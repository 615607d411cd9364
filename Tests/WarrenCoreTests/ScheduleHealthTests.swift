import Cron
import Foundation
import Testing
@testable import WarrenCore

/// The dead-man's switch and the history rows (SPEC §7), pure.
@Suite struct ScheduleHealthTests {
    static func schedule(_ settings: String) throws -> ScheduleDefinition {
        let parsed = ScheduleFileParser.parse(yaml: "schedules:\n  job:\n    task: t\n" + settings.split(separator: "\n").map { "    \($0)\n" }.joined(),
                                              file: "s.yaml")
        #expect(parsed.errors.isEmpty, "\(parsed.errors)")
        return try #require(parsed.schedules.first)
    }

    static func result(_ instant: Int64, _ status: ResultStatus, finished: Int64? = nil) -> TaskResult {
        var result = TaskResult(id: ScheduleDefinition.fireTaskID(schedule: "job", scheduledFor: instant), task: "t", queue: "q",
                                attempt: 1, status: status)
        result.schedule = "job"
        result.scheduledFor = Timestamp.formatUTC(milliseconds: instant * 1000)
        result.finishedAt = Timestamp.formatUTC(milliseconds: (finished ?? instant + 1) * 1000)
        return result
    }

    let noon: Int64 = 1_796_040_000  // 2026-11-30T12:00:00Z

    @Test func theCandidateIsTheNewestFireWhoseDeadlinePassed() throws {
        let hourly = try Self.schedule("cron: \"0 * * * *\"\nalert_after: 15m")
        // 12:14: the 12:00 fire's deadline (12:15) has not passed, 11:00's has.
        #expect(ScheduleHealth.overdueCandidate(of: hourly, now: (noon + 14 * 60) * 1000, after: 0) == noon - 3600)
        #expect(ScheduleHealth.overdueCandidate(of: hourly, now: (noon + 15 * 60) * 1000, after: 0) == noon)
        // Nothing after the floor: a schedule written at 11:30 has no candidate before 12:15.
        #expect(ScheduleHealth.overdueCandidate(of: hourly, now: (noon + 14 * 60) * 1000, after: noon - 1800) == nil)
        // Jitter extends the deadline.
        let jittered = try Self.schedule("cron: \"0 * * * *\"\nalert_after: 15m\njitter: 10m")
        #expect(ScheduleHealth.overdueCandidate(of: jittered, now: (noon + 20 * 60) * 1000, after: 0) == noon - 3600)
        // A daily job found across a long look-back; none without alert_after.
        let daily = try Self.schedule("cron: \"30 2 * * *\"\nalert_after: 1h")
        #expect(ScheduleHealth.overdueCandidate(of: daily, now: noon * 1000, after: 0) == noon - 9 * 3600 - 1800)
        #expect(ScheduleHealth.overdueCandidate(of: try Self.schedule("every: 1m"), now: noon * 1000, after: 0) == nil)
    }

    @Test func overdueUntilTheCandidateHasAFinalRecord() throws {
        let hourly = try Self.schedule("cron: \"0 * * * *\"\nalert_after: 15m")
        let none = ScheduleHealth(schedule: hourly, candidate: noon, candidateResult: nil, recent: [], lastSuccess: nil)
        #expect(none.overdue && none.inTrouble)
        #expect(none.problems == ["overdue: job@2026-11-30T12:00:00Z has no final result"])
        let retrying = ScheduleHealth(schedule: hourly, candidate: noon, candidateResult: Self.result(noon, .retrying), recent: [], lastSuccess: nil)
        #expect(retrying.overdue, "still retrying is no final result")
        for status in [ResultStatus.succeeded, .failed, .skipped, .missed, .cancelled] {
            let done = ScheduleHealth(schedule: hourly, candidate: noon, candidateResult: Self.result(noon, status), recent: [], lastSuccess: nil)
            #expect(!done.overdue, "\(status) is final")
        }
        let paused = try Self.schedule("cron: \"0 * * * *\"\nalert_after: 15m\npaused: true")
        #expect(!ScheduleHealth(schedule: paused, candidate: noon, candidateResult: nil, recent: [], lastSuccess: nil).overdue)
    }

    @Test func failuresInARowCountBackToTheLastSuccess() throws {
        let watched = try Self.schedule("every: 1h\nalert_failures: 3")
        let recent = [Self.result(5, .failed), Self.result(4, .skipped), Self.result(3, .timedOut), Self.result(2, .cancelled),
                      Self.result(1, .rejected), Self.result(0, .succeeded, finished: 90), Self.result(-1, .failed)]
        let health = ScheduleHealth(schedule: watched, candidate: nil, candidateResult: nil, recent: recent, lastSuccess: recent[5])
        #expect(health.consecutiveFailures == 3, "failed, timed_out, rejected; skipped and cancelled neither count nor end the row")
        #expect(health.failing && health.inTrouble && !health.overdue)
        #expect(health.lastSuccess == 90_000)
        #expect(health.problems == ["3 failures in a row"])
        let two = ScheduleHealth(schedule: watched, candidate: nil, candidateResult: nil, recent: Array(recent.suffix(4)), lastSuccess: nil)
        #expect(two.consecutiveFailures == 1 && !two.failing)
        #expect(health.json["consecutive_failures"] == .integer(3))
        #expect(health.json["last_success"] == .string("1970-01-01T00:01:30.000Z"))
    }

    @Test func historyRowsFromResults() {
        var run = Self.result(noon, .succeeded)
        run.startedAt = Timestamp.formatUTC(milliseconds: noon * 1000 + 250)
        run.durationMs = 1200
        run.attempt = 2
        run.trigger = "backfill"
        var missed = Self.result(noon - 3600, .missed)
        missed.error = "older than catchup_window 1h"
        missed.trigger = "catchup"
        let entries = FireHistoryEntry.entries([run, missed])
        #expect(entries.map(\.status) == [.missed, .succeeded], "oldest fire first")
        #expect(entries[1].latenessMs == 250)
        #expect(entries[1].trigger == "backfill")
        #expect(entries[1].attempts == 2)
        #expect(entries[1].reason == nil)
        #expect(entries[0].latenessMs == nil)
        #expect(entries[0].reason == "older than catchup_window 1h")
        var regular = Self.result(noon, .failed)
        regular.error = "exited with status 1"
        #expect(FireHistoryEntry(regular).trigger == "schedule")
        #expect(FireHistoryEntry(regular).json["reason"] == .string("exited with status 1"))
    }
}
